"""The advisor's fine-tuning plan as tuning-job fields: the one mapping from advice to a job, used
by the Fine-tune page, the comparison's defaults and the commands the advisor suggests.

Duck-typed on `advisor.FineTunePlan` (method, recipe, lora_rank, learning_rate, epochs,
batch_size, grad_accum, seq_len, gradient_checkpointing, fit.gpus, sharding) so tuning does not
import the advisor. LoRA alpha is left to the spec, which makes it 2 x rank.
"""
from __future__ import annotations

from typing import Any


def job_fields(plan: Any) -> dict[str, Any]:
    """`JobSpec` fields for the plan (only those the plan decides)."""
    method = plan.method  # lora, qlora or full (common.vocabulary.TrainMethod)
    fields: dict[str, Any] = {"method": method}
    if plan.recipe == "dpo":
        fields = {"method": "dpo", "dpo_base": method if method in ("lora", "qlora") else "lora"}
    if plan.lora_rank:
        fields["lora_rank"] = plan.lora_rank
    # The plan's micro-batch counts sequences (the estimator's unit: a DPO pair is two); a DPO
    # job's batch counts pairs (trl's DPOTrainer concatenates chosen and rejected).
    batch = max(1, plan.batch_size // 2) if plan.recipe == "dpo" else plan.batch_size
    fields |= {"learning_rate": plan.learning_rate, "epochs": plan.epochs, "batch_size": batch,
               "grad_accum": plan.grad_accum, "max_seq_len": plan.seq_len,
               "gradient_checkpointing": plan.gradient_checkpointing}
    gpus = getattr(getattr(plan, "fit", None), "gpus", None) or 1
    if gpus > 1:
        fields |= {"gpus": gpus, "sharding": plan.sharding}
    return {k: v for k, v in fields.items() if v is not None}
