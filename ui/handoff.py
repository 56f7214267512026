"""What the advisor hands to the other pages: the model, the GPUs and the fine-tuning setup of
its recommendation, offered as starting values for their widgets.

The Advisor page stores `st.session_state["answers"]` (`advisor.Answers`) and
`["recommendation"]` (`advisor.Recommendation`). A page calls, before drawing its widgets:

    offer(st.session_state, estimator_values(st.session_state, "est_"))
    offer(st.session_state, widget_values(JobSpec, "ft_", {"model": ..., "epochs": ...}))

`offer` writes a value when the widget has none yet, or when the advisor's value changed since it
was last offered (the user went back and changed an answer: the newer intent wins); otherwise
what the user typed on the page stays.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

OFFERED_KEY = "_offered"  # widget key -> the advisor's value last offered to it

# FineTunePlan field -> EstimateRequest field, for the fields both contracts share.
_PLAN_TO_ESTIMATE = {"lora_rank": "lora_rank", "quant": "quant", "precision": "precision",
                     "batch_size": "batch_size", "grad_accum": "gradient_accumulation",
                     "seq_len": "seq_len", "gradient_checkpointing": "gradient_checkpointing",
                     "epochs": "epochs", "train_tokens": "train_tokens"}


def offer(state: MutableMapping, values: dict[str, Any]) -> None:
    """Pre-fill widget keys from the advisor without overwriting what the user typed since."""
    offered = state.setdefault(OFFERED_KEY, {})
    for key, value in values.items():
        if value is None:
            continue
        if key not in state or offered.get(key) != value:
            state[key] = value
        offered[key] = value


def _advice(state: MutableMapping) -> tuple[Any, Any]:
    """(Answers or None, Recommendation or None); answers may also be a dict (e.g. read from JSON)."""
    from advisor import Answers, Recommendation

    answers, rec = state.get("answers"), state.get("recommendation")
    if isinstance(answers, dict):
        try:
            answers = Answers.model_validate(answers)
        except ValueError:  # pydantic's ValidationError included: nothing usable to hand over
            answers = None
    return (answers if isinstance(answers, Answers) else None,
            rec if isinstance(rec, Recommendation) else None)


def trainable_model(name: str) -> str | None:
    """The hub id to download and train for a catalog name (`llama-3.1-8b` ->
    `meta-llama/Llama-3.1-8B`); None for a bare size such as `8b`, which names no weights."""
    from estimator import load_model_spec

    try:
        spec = load_model_spec(name)
    except ValueError:
        return None
    return None if spec.approximate else (spec.catalog_id or name)


def estimator_values(state: MutableMapping, prefix: str) -> dict[str, Any]:
    """The Estimator page's inputs: the recommended setup (method, LoRA rank, quantization, batch,
    sequence length, GPUs), so the page shows the advisor's figures; inference when the advice is
    prompting or RAG (the memory to serve the model)."""
    from estimator import EstimateRequest

    answers, rec = _advice(state)
    if answers is None:
        return {}
    plan = rec.finetune if rec is not None else None
    values: dict[str, Any] = {"model": answers.model, "gpu": answers.gpu, "gpus": answers.gpu_count}
    if plan is not None:
        dumped = plan.model_dump()
        values |= {dst: dumped[src] for src, dst in _PLAN_TO_ESTIMATE.items() if src in dumped}
        values |= {"model": plan.model, "method": plan.method, "gpu": plan.fit.gpu, "gpus": plan.fit.gpus,
                   "sharding": plan.fit.sharding}  # how advisor.sizing spread the job over the GPUs
    elif rec is not None:
        from advisor.sizing import seq_len_for

        values |= {"method": "inference", "seq_len": seq_len_for(answers), "batch_size": 1,
                   "gradient_checkpointing": False}
        if rec.serving is not None:
            values |= {"gpu": rec.serving.gpu or answers.gpu, "gpus": rec.serving.gpus,
                       "sharding": rec.serving.sharding}
    return widget_values(EstimateRequest, prefix, values)


def widget_values(model: type, prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values` of `model`'s fields as widget keys (`prefix + field`), each cast to its field's
    number type: Streamlit refuses an int in a float number_input (and the reverse)."""
    out = {}
    for field, value in values.items():
        if value is None:
            continue
        annotation = model.model_fields[field].annotation
        args = getattr(annotation, "__args__", None) or (annotation,)  # `float | None` -> (float, None)
        if not isinstance(value, bool) and isinstance(value, int | float):
            value = float(value) if float in args else int(value) if int in args else value
        out[prefix + field] = value
    return out
