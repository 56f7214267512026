"""The estimator's facade: `estimate(req) -> Estimate`, the breakdown, fits, time, cost and advice."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from estimator.assumptions import assumptions
from estimator.fit import fits_on
from estimator.gpus import list_gpus, load_gpu
from estimator.model_catalog import load_model_spec
from estimator.model_spec import ModelSpec
from estimator.peak_memory import Breakdown, memory_breakdown
from estimator.request import EstimateRequest
from estimator.serving import ServingEstimate, serving_for
from estimator.step_setup import GIB
from estimator.suggestions import Suggestion, suggestions
from estimator.training_time import cost_usd, flops_per_token, training_hours

COMPONENTS = ("weights", "adapter", "gradients", "optimizer_states", "activations", "logits_loss",
              "quant_buffers", "comm_buffers", "allocator_overhead", "cuda_context")
# Band: parameter-sized terms are exact to a few %; activation-sized ones depend on kernels and
# padding. The published checks (bench/measurements) land within these.
STATIC_BAND, DYNAMIC_LOW, DYNAMIC_HIGH, QUANT_EXTRA = 0.05, 0.15, 0.20, 0.10
# The request's fields the stack or the device decides when left empty, reported as resolved.
RESOLVED = ("precision", "pure_bf16", "loss", "optimizer_foreach", "activation_offloading")


class Band(BaseModel):
    low_gib: float
    high_gib: float


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    approximate: bool = Field(description="The model shape is representative (a bare size), not exact.")
    stack: str = Field(description="The training stack whose dtypes, loss and checkpointing were modelled.")
    device: str = Field(description="cuda: per GPU, CUDA context and allocator slack included; cpu: the process.")
    resolved: dict[str, str | bool] = Field(description="What the stack and device chose for the fields left empty.")
    params_total: int
    params_trainable: int
    memory_gib: dict[str, float] = Field(description="Per-GPU peak by component, GiB; total includes the CUDA context.")
    components: dict[str, str] = Field(description="One-line formula per component.")
    peak_phase: str = Field(description="The moment of the step when memory peaks.")
    phases_gib: dict[str, float] = Field(
        description="Allocated GiB at each moment (before allocator slack and context)."
    )
    band: Band
    cpu_gib: float = Field(0.0, description="Host memory taken by offloaded optimizer states and activations.")
    fits: dict[str, bool] = Field(description="Catalog GPU -> fits with the requested GPU count.")
    gpu: str | None = None
    fits_gpu: bool | None = None
    flops_per_token: float
    flops_formula: str
    time_hours: float | None = None
    cost_usd: float | None = None
    time_formula: str | None = None
    serving: ServingEstimate | None = Field(None, description="Inference with prompt/output tokens and a GPU: "
                                            "prefill, decode, latency and $ per 1k queries.")
    suggestions: list[Suggestion] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)


def estimate(req: EstimateRequest, spec: ModelSpec | None = None) -> Estimate:
    """Memory per GPU, which GPUs fit, and time and cost when a GPU and a token count are given."""
    spec = spec or load_model_spec(req.model)
    gpu = load_gpu(req.gpu) if req.gpu else None
    breakdown = memory_breakdown(req, spec)
    total_gib = breakdown.total_bytes / GIB
    memory = {k: round(breakdown.components[k].bytes / GIB, 3) for k in COMPONENTS}
    memory["total"] = round(total_gib, 3)
    flops = flops_per_token(req, spec)
    result = Estimate(
        model=spec.catalog_id or spec.name, approximate=spec.approximate, stack=req.stack, device=req.device,
        resolved={k: getattr(req, k) for k in RESOLVED},
        params_total=spec.param_count(), params_trainable=_trainable(req, spec),
        memory_gib=memory, components={k: breakdown.components[k].formula for k in COMPONENTS},
        peak_phase=breakdown.peak_phase,
        phases_gib={k: round(v / GIB, 3) for k, v in breakdown.phases.items()},
        band=_band(req, breakdown), cpu_gib=round(breakdown.cpu_bytes / GIB, 3),
        fits={g.name: fits_on(total_gib, g, req.precision) for g in list_gpus()},
        flops_per_token=flops.per_token, flops_formula=flops.formula,
        assumptions=assumptions(req, spec),
    )
    if gpu:
        result.gpu, result.fits_gpu = gpu.name, fits_on(total_gib, gpu, req.precision)
        if req.train_tokens and req.is_training:
            hours, how = training_hours(req, spec, gpu, req.gpus)
            result.time_hours, result.cost_usd, result.time_formula = hours, cost_usd(hours, gpu, req.gpus), how
        result.serving = serving_for(req, spec, gpu)
    target = gpu or max(list_gpus(), key=lambda g: g.memory_gib)
    if req.device != "cpu" and not fits_on(total_gib, target, req.precision):
        result.suggestions = suggestions(req, spec, target)
    return result


def _trainable(req: EstimateRequest, spec: ModelSpec) -> int:
    if req.method == "full":
        return spec.param_count()
    if req.uses_adapter:
        return spec.lora_params(req.lora_rank, req.lora_targets)
    return 0


def _band(req: EstimateRequest, b: Breakdown) -> Band:
    dynamic = sum(b.components[k].bytes for k in ("activations", "logits_loss", "gradients"))
    static = b.total_bytes - dynamic
    extra = QUANT_EXTRA if req.quant != "none" else 0.0
    low = b.total_bytes - STATIC_BAND * static - (DYNAMIC_LOW + extra) * dynamic
    high = b.total_bytes + STATIC_BAND * static + (DYNAMIC_HIGH + extra) * dynamic
    return Band(low_gib=round(low / GIB, 3), high_gib=round(high / GIB, 3))
