"""Which GPUs fit a request: per catalog GPU, the fewest that hold it, with time and cost."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from estimator.gpus import Gpu, list_gpus
from estimator.model_spec import ModelSpec
from estimator.peak_memory import memory_breakdown
from estimator.request import EstimateRequest
from estimator.step_setup import GIB
from estimator.training_time import cost_usd, training_hours

# GPU counts tried for "fewest that fit": one node's worth in powers of two, then whole nodes.
GPU_COUNTS = (1, 2, 4, 8, 16, 32, 64)


class GpuFit(BaseModel):
    """One row of the "which GPUs fit" table."""

    model_config = ConfigDict(extra="forbid")

    gpu: str
    memory_gib: float = Field(description="Memory of one GPU (GiB).")
    usd_per_hour: float = Field(description="On-demand price of one GPU.")
    fits: bool = Field(description="Fits with the requested GPU count and sharding.")
    min_gpus: int | None = Field(description="Fewest GPUs of this type that fit (None: more than 64).")
    sharding: str = Field(description="Sharding used at min_gpus.")
    total_gib: float | None = Field(description="Estimated peak per GPU at min_gpus (GiB).")
    time_hours: float | None = None
    cost_usd: float | None = None
    note: str = ""


def dtype_supported(gpu: Gpu, precision: str) -> bool:
    return precision != "bf16" or gpu.bf16


def fits_on(total_gib: float, gpu: Gpu, precision: str) -> bool:
    return dtype_supported(gpu, precision) and total_gib <= gpu.memory_gib


def _totals_by_count(req: EstimateRequest, spec: ModelSpec) -> dict[int, tuple[float, str]]:
    """Peak GiB per GPU for each GPU count; more GPUs only help when they shard (ZeRO-3 if none asked)."""
    out = {}
    for n in sorted({req.gpus, *GPU_COUNTS}):
        if n < req.gpus:
            continue
        sharding = req.sharding if (req.sharding != "none" or n == req.gpus) else "zero3"
        variant = req.model_copy(update={"gpus": n, "sharding": sharding})
        out[n] = (memory_breakdown(variant, spec).total_bytes / GIB, sharding)
    return out


def fit_table(req: EstimateRequest, spec: ModelSpec | None = None) -> list[GpuFit]:
    """Every catalog GPU: fits as asked?, fewest that fit, time and cost there; cheapest first."""
    if spec is None:
        from estimator.model_catalog import load_model_spec

        spec = load_model_spec(req.model)
    totals = _totals_by_count(req, spec)
    rows = [_row(req, spec, gpu, totals) for gpu in list_gpus()]
    return sorted(rows, key=_sort_key)


def _row(req: EstimateRequest, spec: ModelSpec, gpu: Gpu, totals: dict[int, tuple[float, str]]) -> GpuFit:
    asked_total, _ = totals[req.gpus]
    fits = fits_on(asked_total, gpu, req.precision)
    if not dtype_supported(gpu, req.precision):
        return GpuFit(gpu=gpu.name, memory_gib=gpu.memory_gib, usd_per_hour=gpu.usd_per_hour, fits=False,
                      min_gpus=None, sharding=req.sharding, total_gib=None, note="no bf16: use precision fp16")
    best = next(((n, t, sh) for n, (t, sh) in totals.items() if t <= gpu.memory_gib), None)
    if best is None:
        return GpuFit(gpu=gpu.name, memory_gib=gpu.memory_gib, usd_per_hour=gpu.usd_per_hour, fits=fits,
                      min_gpus=None, sharding=req.sharding, total_gib=None,
                      note=f"needs more than {max(totals)} GPUs")
    n, total, sharding = best
    hours = cost = None
    if req.train_tokens and req.is_training:
        hours, _ = training_hours(req, spec, gpu, n)
        cost = cost_usd(hours, gpu, n)
    note = f"with {sharding}" if sharding != req.sharding else ""
    return GpuFit(gpu=gpu.name, memory_gib=gpu.memory_gib, usd_per_hour=gpu.usd_per_hour, fits=fits,
                  min_gpus=n, sharding=sharding, total_gib=round(total, 2), time_hours=hours, cost_usd=cost,
                  note=note)


def _sort_key(row: GpuFit) -> tuple:
    if row.min_gpus is None:
        return (1, 0.0, row.gpu)
    price = row.cost_usd if row.cost_usd is not None else row.usd_per_hour * row.min_gpus
    return (0, price, row.gpu)
