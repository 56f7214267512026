"""Start a comparison: check what can be checked before any model loads, then launch the worker
(`python -m compare.worker RUN_DIR`, detached) through the tuning backend's run machinery.
Also: default settings from the advisor's answers and recommendation."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from compare.errors import CompareError
from compare.spec import CompareSpec


def preflight(spec: CompareSpec) -> int:
    """Fail before launching on what the user can fix: missing files, a dataset with problems
    (file, line, field), an unknown column, an unknown GPU, a model folder without config.json.
    Returns the number of usable examples."""
    from tuning.data import load_examples

    spec.check_inputs()
    loaded = load_examples(spec.data, spec.mapping, kind="sft")
    errors = [p for p in loaded.problems if p.severity == "error"]
    if errors or not loaded.examples:
        lines = "; ".join(str(p) for p in errors[:5]) or f"{spec.data.name}: no examples"
        more = f" (and {loaded.problems_total - 5} more)" if loaded.problems_total > 5 else ""
        raise CompareError(f"data: {lines}{more}")
    if spec.relevant_field and spec.relevant_field not in loaded.columns:
        raise CompareError(f"relevant_field: no column {spec.relevant_field!r} in {spec.data.name} "
                           f"(columns: {', '.join(loaded.columns)})")
    if len(loaded.examples) < 2:
        raise CompareError(f"data: {len(loaded.examples)} example(s): a comparison needs at least 2 (train + held-out)")
    from tuning.model_ref import check_available

    check_available(spec.model)  # a folder without config.json, a hub id no hub or cache can give
    from estimator.gpus import load_gpu

    load_gpu(spec.gpu)  # an unknown name raises, listing close names
    return len(loaded.examples)


def launch_comparison(spec: CompareSpec) -> Path:
    """Preflight, then create the run folder and start its worker; returns the folder at once."""
    from tuning import runs

    preflight(spec)
    return runs.launch(spec)


def defaults_from_advice(answers: Any = None, recommendation: Any = None) -> dict[str, Any]:
    """CompareSpec fields suggested by the advisor: the GPU for prices, and for the fine-tuned
    arms the method (QLoRA or LoRA; full fine-tuning is compared as LoRA), rank, learning rate,
    epochs, batch size and sequence length of the recommended plan (sized by the estimator).
    Only fields with an advised value are returned; the model is left to the user because the
    advisor's model may be a size ("8b") rather than something to load."""
    out: dict[str, Any] = {}
    gpu = getattr(answers, "gpu", None)
    if gpu:
        out["gpu"] = gpu
    plan = getattr(recommendation, "finetune", None)
    finetune: dict[str, Any] = {}
    if plan is not None:
        finetune["method"] = "qlora" if plan.method == "qlora" else "lora"
        if plan.lora_rank:
            finetune["lora_rank"] = plan.lora_rank
            finetune["lora_alpha"] = 2 * plan.lora_rank
        finetune["learning_rate"] = plan.learning_rate
        finetune["epochs"] = plan.epochs
        finetune["batch_size"] = plan.batch_size
        finetune["max_seq_len"] = plan.seq_len
        if plan.fit and plan.fit.gpu and "gpu" not in out:
            out["gpu"] = plan.fit.gpu
    elif getattr(recommendation, "primary", None) in ("lora", "qlora"):
        finetune["method"] = recommendation.primary
    if finetune:
        out["finetune"] = finetune
    if "gpu" in out:
        out["gpu"] = _catalog_gpu_name(out["gpu"])
    return out


def _catalog_gpu_name(name: str) -> str:
    """The catalog's spelling of a loosely written GPU name (`rtx-4090` -> `RTX 4090`)."""
    from estimator.gpus import load_gpu

    try:
        return load_gpu(name).name
    except ValueError:
        return name
