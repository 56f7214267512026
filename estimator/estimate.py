"""The estimator's facade: `estimate(req) -> Estimate`, the breakdown, fits, time, cost and advice."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from estimator.compute import cost_usd, flops_per_token, training_hours
from estimator.fit import fits_on
from estimator.gpus import Gpu, list_gpus, load_gpu
from estimator.memory import CUDA_CONTEXT_BYTES, GIB, Breakdown, memory_breakdown
from estimator.model_spec import ModelSpec
from estimator.model_catalog import load_model_spec
from estimator.request import EstimateRequest

COMPONENTS = ("weights", "adapter", "gradients", "optimizer_states", "activations", "logits_loss",
              "quant_buffers", "comm_buffers", "allocator_overhead", "cuda_context")
# Band: parameter-sized terms are exact to a few %; activation-sized ones depend on kernels and
# padding. The published checks (bench/measurements) land within these.
STATIC_BAND, DYNAMIC_LOW, DYNAMIC_HIGH, QUANT_EXTRA = 0.05, 0.15, 0.20, 0.10


class Band(BaseModel):
    low_gib: float
    high_gib: float


class Suggestion(BaseModel):
    change: str = Field(description="What to change.")
    total_gib: float = Field(description="Estimated peak per GPU after the change.")
    fits: bool


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    approximate: bool = Field(description="The model shape is representative (a bare size), not exact.")
    params_total: int
    params_trainable: int
    memory_gib: dict[str, float] = Field(description="Per-GPU peak by component, GiB; total includes the CUDA context.")
    components: dict[str, str] = Field(description="One-line formula per component.")
    peak_phase: str = Field(description="The moment of the step when memory peaks.")
    phases_gib: dict[str, float] = Field(description="Allocated GiB at each moment (before allocator slack and context).")
    band: Band
    cpu_gib: float = Field(0.0, description="Host memory taken by offloaded optimizer states.")
    fits: dict[str, bool] = Field(description="Catalog GPU -> fits with the requested GPU count.")
    gpu: str | None = None
    fits_gpu: bool | None = None
    flops_per_token: float
    flops_formula: str
    time_hours: float | None = None
    cost_usd: float | None = None
    time_formula: str | None = None
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
        model=spec.catalog_id or spec.name, approximate=spec.approximate,
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
        if req.train_tokens:
            hours, how = training_hours(req, spec, gpu, req.gpus)
            result.time_hours, result.cost_usd, result.time_formula = hours, cost_usd(hours, gpu, req.gpus), how
    target = gpu or max(list_gpus(), key=lambda g: g.memory_gib)
    if not fits_on(total_gib, target, req.precision):
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


def _candidate_changes(req: EstimateRequest) -> list[tuple[str, dict]]:
    changes = []
    if req.batch_size > 1:
        changes.append((f"batch size 1 (x{req.batch_size} gradient accumulation)",
                        {"batch_size": 1, "gradient_accumulation": req.gradient_accumulation * req.batch_size}))
    if req.is_training and not req.gradient_checkpointing:
        changes.append(("gradient checkpointing on", {"gradient_checkpointing": True}))
    if req.is_training and req.loss == "standard":
        changes.append(("chunked cross-entropy loss", {"loss": "chunked"}))
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


def assumptions(req: EstimateRequest, spec: ModelSpec) -> list[str]:
    """The estimate's assumptions in words, for the page and the command."""
    out = ["GiB = 2^30 bytes; per-GPU peak of a steady-state step (optimizer states already created).",
           "Hugging Face transformers + peft, SDPA/flash attention, activations in the compute dtype; k/v kept at "
           "their own head count (a padding mask makes transformers repeat them to all heads: a little more)."]
    if spec.approximate:
        out.append(f"Model shape is representative for {req.model!r}, not an exact architecture.")
    if req.method == "full" and req.precision != "fp32":
        out.append("Pure 16-bit: weights, gradients and AdamW states all 16-bit." if req.pure_bf16 else
                   "Mixed precision: fp32 master weights, gradients and AdamW states; 16-bit autocast copies.")
    if req.uses_adapter:
        out.append("LoRA adapters, their gradients and AdamW states in " +
                   ("16-bit (pure bf16)." if req.pure_bf16 else "fp32 (peft's default), computed under bf16 autocast."))
    if req.quant != "none" and req.quant_saves_inputs:
        out.append("Older bitsandbytes: every quantized matmul keeps its input for backward.")
    if req.quant == "nf4":
        out.append("NF4 (bitsandbytes): decoder-layer Linear weights 4-bit with per-64 absmax"
                   + (" double-quantized" if req.double_quant else "") + "; embeddings, lm_head and norms stay 16-bit.")
    if req.is_training:
        out.append({"standard": "Loss: full-vocabulary logits upcast to fp32 (transformers' ForCausalLMLoss).",
                    "chunked": "Loss: chunked cross-entropy, fp32 work one chunk (1/8) at a time."}[req.loss])
        if req.gradient_accumulation > 1:
            out.append(f"Gradient accumulation {req.gradient_accumulation}: gradients stay allocated between micro-batches.")
    if req.gpus > 1:
        out.append({"none": "DDP: every GPU holds everything plus gradient buckets.",
                    "zero1": "ZeRO-1: optimizer states (and fp32 masters) sharded.",
                    "zero2": "ZeRO-2: optimizer states and gradients sharded.",
                    "zero3": "ZeRO-3: weights, gradients and states sharded; one layer gathered at a time.",
                    "fsdp": "FSDP full shard: like ZeRO-3."}[req.sharding])
    out.append(f"CUDA context {CUDA_CONTEXT_BYTES / GIB:.1f} GiB outside PyTorch's allocator; allocator slack "
               "~6% of activation/gradient memory.")
    if req.is_training:
        out.append(f"Time: MFU {req.mfu:g} of the GPU's dense {req.precision} peak; QLoRA 1.6x slower "
                   "(dequantization), int8 2x.")
    return out
