"""The advice handed on: the advisor's answers and plan as the fields of an estimate
(`estimator.EstimateRequest`), a tuning job (`tuning.spec.JobSpec`) and a comparison
(`compare.spec.CompareSpec`), and as the `ftadvisor estimate|tune|compare` commands it suggests.
The Estimator, Fine-tune and Compare pages start from these fields and the advisor's next steps
are written from them, so every entry point gets the same values.

Each function returns plain field dicts that the caller validates with its own model, so the
advisor imports neither tuning nor compare. LoRA alpha is never set: each spec makes it 2 x rank.
"""
from __future__ import annotations

from typing import Any, Literal

from advisor import sizing
from advisor.answers import Answers
from advisor.catalog import canonical_gpu, model_spec, runnable_model
from advisor.recommendation import FineTunePlan, Recommendation
from common import flags
from common.vocabulary import ADAPTER_METHODS, DEFAULT_EPOCHS, DEFAULT_LORA_RANK, DEFAULT_LR

Command = Literal["tune", "estimate", "compare"]


def trainable_model(name: str) -> str | None:
    """The hub id a page loads for the advisor's model: what the suggested commands load
    (`llama-3.1-8b-instruct` -> `meta-llama/Llama-3.1-8B-Instruct`); None for a bare size such as
    `8b` or an unknown name, which names no weights."""
    try:
        spec = model_spec(name)
    except ValueError:  # estimator.errors.EstimatorError: an unknown name
        return None
    return None if spec.approximate else runnable_model(name)


def estimate_fields(answers: Answers | None, rec: Recommendation | None) -> dict[str, Any]:
    """EstimateRequest fields for the advice: the fine-tuning plan as it was sized, else the memory
    to serve the model (prompting, RAG), else the model and GPUs the answers name."""
    if answers is None:
        return {}
    if rec is None:
        return {"model": answers.model, "gpu": answers.gpu, "gpus": answers.gpu_count}
    if rec.finetune is None:
        return serving_fields(answers, rec)
    plan = rec.finetune
    return _present({
        "model": plan.model, "method": plan.method, "stack": answers.stack, "lora_rank": plan.lora_rank,
        "precision": plan.precision, "quant": plan.quant, "batch_size": plan.batch_size, "seq_len": plan.seq_len,
        "gradient_accumulation": plan.grad_accum, "gradient_checkpointing": plan.gradient_checkpointing,
        "gpus": plan.fit.gpus, "sharding": plan.fit.sharding, "gpu": plan.fit.gpu,
        "train_tokens": plan.train_tokens or None, "epochs": plan.epochs,
    })


def serving_fields(answers: Answers, rec: Recommendation) -> dict[str, Any]:
    """EstimateRequest fields of the served model (the student when distilling): one sequence at a
    time, on the GPUs `rec.serving` was sized for. Precision is left to the request, which picks
    what that GPU supports, as the sizing did."""
    serving = rec.serving
    fields = {"model": sizing.serving_job(answers).model, "method": "inference", "batch_size": 1,
              "seq_len": serving.seq_len if serving else sizing.seq_len_for(answers),
              "gpu": answers.gpu, "gpus": answers.gpu_count}
    if serving is not None:
        fields |= {"gpu": serving.gpu, "gpus": serving.gpus, "sharding": serving.sharding}
    return _present(fields)


def job_fields(plan: FineTunePlan) -> dict[str, Any]:
    """JobSpec fields the plan decides (not the model, the data or the run folder)."""
    fields: dict[str, Any] = {"method": plan.method}
    if plan.recipe == "dpo":
        fields = {"method": "dpo", "dpo_base": plan.method if plan.method in ADAPTER_METHODS else "lora"}
    # The plan's micro-batch counts sequences (the estimator's unit: a DPO pair is two); a DPO
    # job's batch counts pairs (trl's DPOTrainer concatenates chosen and rejected).
    batch = max(1, plan.batch_size // 2) if plan.recipe == "dpo" else plan.batch_size
    return _present(fields | {
        "lora_rank": plan.lora_rank, "learning_rate": plan.learning_rate, "epochs": plan.epochs, "batch_size": batch,
        "grad_accum": plan.grad_accum, "max_seq_len": plan.seq_len,
        "gradient_checkpointing": plan.gradient_checkpointing, "gpus": plan.fit.gpus, "sharding": plan.fit.sharding,
    })


def dpo_stage_fields(plan: FineTunePlan) -> dict[str, Any]:
    """JobSpec fields of the DPO stage that follows SFT (`plan.dpo_stage`): a LoRA on the merged SFT
    model, one pair per micro-batch, at DPO's learning rate, on the GPUs that stage was sized for."""
    stage = plan.dpo_stage
    assert stage is not None
    return {"method": "dpo", "dpo_base": plan.method if plan.method in ADAPTER_METHODS else "lora",
            "lora_rank": plan.lora_rank or DEFAULT_LORA_RANK, "epochs": DEFAULT_EPOCHS,
            "learning_rate": DEFAULT_LR["dpo"], "batch_size": 1, "grad_accum": plan.grad_accum,
            "max_seq_len": stage.seq_len, "gradient_checkpointing": True, "gpus": stage.gpus,
            "sharding": stage.sharding}


def tune_fields(answers: Answers | None, rec: Recommendation | None) -> dict[str, Any]:
    """JobSpec fields for the Fine-tune page: the model to train and the plan's settings."""
    plan = rec.finetune if rec is not None else None
    named = plan.model if plan is not None else answers.model if answers is not None else None
    return _present({"model": trainable_model(named) if named else None} | (job_fields(plan) if plan else {}))


def compare_fields(answers: Answers | None, rec: Recommendation | None) -> dict[str, Any]:
    """CompareSpec fields: the model (as `trainable_model`), the GPU the costs are priced at (the
    catalog's spelling), the fine-tuned arms' settings and the advice itself (`advised`).

    The comparison trains one SFT adapter where it is launched, so its method stays `auto` (QLoRA
    on a GPU, LoRA on a CPU); it takes the plan's rank, epochs, micro-batch and sequence length,
    and the plan's learning rate only when the plan trains an SFT adapter too: a full fine-tune's
    or DPO's rate (1e-5, 5e-6) would barely move a LoRA."""
    plan = rec.finetune if rec is not None else None
    fields: dict[str, Any] = {}
    named = (plan.model if plan is not None else None) or (answers.model if answers is not None else None)
    if named and trainable_model(named):
        fields["model"] = trainable_model(named)
    gpu = (answers.gpu if answers is not None else None) or (plan.fit.gpu if plan is not None else None)
    if gpu:
        fields["gpu"] = _catalog_gpu_name(gpu)
    if plan is not None:
        finetune = {"lora_rank": plan.lora_rank, "epochs": plan.epochs, "batch_size": plan.batch_size,
                    "max_seq_len": plan.seq_len}
        if plan.recipe == "sft" and plan.method in ADAPTER_METHODS:
            finetune["learning_rate"] = plan.learning_rate
        fields["finetune"] = _present(finetune)
    if rec is not None:
        fields["advised"] = {"approach": rec.primary, "combine_with": list(rec.combine_with),
                             "headline": rec.headline}
    return fields


def command(name: Command, fields: dict[str, Any]) -> list[str]:
    """`ftadvisor NAME --flag value ...` for the fields of NAME's request model (a settings model as
    a dict: `{"finetune": {"lora_rank": 16}}`), spelled from `common.flags` in its order: True is
    `--flag`, False `--no-flag`, a list one comma list (several words for `--docs`); None is left
    out. A field the command has no flag for raises ValueError: nothing is dropped unsaid."""
    table = _flag_table(name)
    given = {(field,): value for field, value in fields.items() if not isinstance(value, dict)}
    given |= {(field, inner): value for field, values in fields.items() if isinstance(values, dict)
              for inner, value in values.items()}
    given = {path: value for path, value in given.items() if value is not None}
    unknown = [".".join(path) for path in given if path not in table]
    if unknown:
        raise ValueError(f"ftadvisor {name} has no flag for {', '.join(unknown)}")
    argv = ["ftadvisor", name]
    for path, flag in table.items():
        if path in given:
            argv += _words(flag, given[path])
    return argv


def _flag_table(name: Command) -> dict[tuple[str, ...], str]:
    """(field,) or (field holding a settings model, its field) -> flag, in the order the flags are
    written: the data and its columns, the other inputs, the settings, the run folder last."""
    if name == "estimate":
        return {(field,): flag for field, flag in flags.ESTIMATE.items()}
    if name == "tune":
        return {(field,): flag for field, flag in (flags.TUNE | flags.TUNE_BY_HAND).items()}
    inputs = {field: flag for field, flag in flags.COMPARE_BY_HAND.items() if field not in ("data", "output")}
    settings = {(section, field): flag for section, table in flags.COMPARE_SETTINGS.items()
                for field, flag in table.items()}
    columns = {path: flag for path, flag in settings.items() if path[0] == "mapping"}
    return ({("data",): flags.COMPARE_BY_HAND["data"]} | columns
            | {(field,): flag for field, flag in (inputs | flags.COMPARE_SPEC).items()}
            | settings | {("output",): flags.COMPARE_BY_HAND["output"]})


def _words(flag: str, value: Any) -> list[str]:
    if value is True:
        return [flag]
    if value is False:
        return ["--no-" + flag.removeprefix("--")]
    if isinstance(value, list | tuple):
        return [flag, *map(str, value)] if flag in flags.SEVERAL_WORDS else [flag, ",".join(map(str, value))]
    return [flag, f"{value:g}" if isinstance(value, float) else str(value)]


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {field: value for field, value in fields.items() if value is not None}


def _catalog_gpu_name(name: str) -> str:
    """The catalog's spelling of a loosely written GPU name (`rtx-4090` -> `RTX 4090`); an unknown
    one as written, for the comparison's preflight to refuse with close names."""
    try:
        return canonical_gpu(name)
    except ValueError:
        return name
