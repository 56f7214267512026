"""What it would take to fit a GPU: each change alone, all of them together, and more GPUs."""
from __future__ import annotations

from pydantic import BaseModel, Field

from estimator.fit import fits_on
from estimator.gpus import Gpu
from estimator.model_spec import ModelSpec
from estimator.peak_memory import memory_breakdown
from estimator.request import EstimateRequest
from estimator.step_setup import GIB


class Suggestion(BaseModel):
    change: str = Field(description="What to change.")
    total_gib: float = Field(description="Estimated peak per GPU after the change.")
    fits: bool


def _candidate_changes(req: EstimateRequest) -> list[tuple[str, dict]]:
    changes = []
    if req.batch_size > 1:
        changes.append((f"batch size 1 (x{req.batch_size} gradient accumulation)",
                        {"batch_size": 1, "gradient_accumulation": req.gradient_accumulation * req.batch_size}))
    if req.is_training and not req.gradient_checkpointing:
        changes.append(("gradient checkpointing on", {"gradient_checkpointing": True}))
    if req.is_training and req.loss != "fused":
        changes.append(("fused cross-entropy loss (Liger, Cut Cross-Entropy)", {"loss": "fused"}))
    if req.attention == "eager":
        changes.append(("sdpa/flash attention", {"attention": "sdpa"}))
    if req.method == "full":
        changes.append(("LoRA instead of full fine-tuning", {"method": "lora"}))
        if req.optimizer == "adamw":
            changes.append(("8-bit AdamW", {"optimizer": "adamw-8bit"}))
        if not req.offload_optimizer:
            changes.append(("optimizer offload to CPU", {"offload_optimizer": True}))
    if req.method == "lora":
        changes.append(("QLoRA (NF4 base weights)", {"method": "qlora", "quant": "nf4"}))
    if req.method == "inference" and req.quant == "none":
        changes.append(("4-bit NF4 weights", {"quant": "nf4"}))
    if req.seq_len > 512:
        changes.append((f"sequence length {req.seq_len // 2}", {"seq_len": req.seq_len // 2}))
    return changes


def suggestions(req: EstimateRequest, spec: ModelSpec, gpu: Gpu) -> list[Suggestion]:
    """What it would take to fit `gpu`: each change alone, all together, and more GPUs with ZeRO-3."""
    out, combined = [], {}
    for text, update in _candidate_changes(req):
        out.append(_try(req, spec, gpu, text, update))
        combined.update(update)
    if len(out) > 1:
        out.append(_try(req, spec, gpu, "all of the above", combined))
    for n in (2, 4, 8, 16, 32, 64):
        if n > req.gpus:
            more = _try(req, spec, gpu, f"{n} x {gpu.name} with ZeRO-3/FSDP", {"gpus": n, "sharding": "zero3"})
            if more.fits:
                out.append(more)
                break
    return sorted(out, key=lambda s: (not s.fits, s.total_gib))


def _try(req: EstimateRequest, spec: ModelSpec, gpu: Gpu, text: str, update: dict) -> Suggestion:
    variant = req.model_copy(update=update)
    total = memory_breakdown(variant, spec).total_bytes / GIB
    return Suggestion(change=text, total_gib=round(total, 2), fits=fits_on(total, gpu, req.precision))
