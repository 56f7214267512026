"""Per-GPU peak memory of a training (or inference) step, as a sum of named components.

Every term is derived from what PyTorch keeps alive, not from a rule of thumb:
- parameters, gradients and optimizer states: bytes per element of their dtype;
- activations: the tensors autograd saves for backward in a Llama-style decoder layer
  (transformers 5 modeling files; peft 0.21 LoRA layers; bitsandbytes 4/8-bit matmuls);
- the logits/loss buffer of the causal-LM loss (transformers' ForCausalLMLoss upcasts to fp32);
- sharding (DeepSpeed ZeRO-1/2/3, FSDP full shard), the CUDA context and the caching allocator.

A step has three moments when memory peaks; the estimate is the largest of them:
  forward+loss  : static + saved activations + the loss buffer (+ the lm_head gradient, full FT)
  backward      : static + saved activations + one recomputed layer (checkpointing) + grad workspace
  optimizer step: static + all gradients + the optimizer's step temporaries
where static = weights + adapter + optimizer states + quantization and communication buffers.
"""
from __future__ import annotations

from dataclasses import dataclass

from estimator.activations import activation_terms, inference_activations
from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.terms import GIB, Setup, Term, setup

# bitsandbytes NF4 (QLoRA paper section 3; bnb functional.quantize_4bit): 4-bit codes, one absmax per
# 64-weight block. Without double quant the absmax is fp32 (32/64 = 0.5 bit/param); with it the
# absmax is 8-bit (8/64) plus one fp32 constant per 256 absmax blocks (32/(64*256)) -> 0.127 bit.
NF4_CODE_BYTES = 0.5
NF4_ABSMAX_BYTES = 4 / 64
NF4_DQ_ABSMAX_BYTES = 1 / 64 + 4 / (64 * 256)
# LLM.int8 (bnb Int8Params): int8 weights + one fp32 scale (SCB) per output row.
INT8_BYTES = 1
# bnb 8-bit optimizers: two uint8 states + one fp32 absmax per 2048-element block per state.
ADAM8_BYTES = 2 + 2 * 4 / 2048
# CUDA context + cuBLAS/cuDNN handles outside the caching allocator: ~0.3-1 GiB by GPU, driver and
# CUDA lazy loading; 0.6 GiB is what a bare `torch.cuda.init()` + one matmul shows on A100/H100.
CUDA_CONTEXT_BYTES = int(0.6 * GIB)
# Caching allocator: reserved minus allocated at the peak. Activation-sized blocks are freed and
# re-used at different sizes; 2 MiB rounding and split blocks leave ~5-8% of the changing bytes idle.
ALLOCATOR_DYNAMIC_FRACTION = 0.06
ALLOCATOR_FIXED_BYTES = 64 * 1024**2


@dataclass
class Breakdown:
    """The peak moment's components (bytes) and every moment's total, for `estimate()`."""

    components: dict[str, Term]
    phases: dict[str, float]
    peak_phase: str
    cpu_bytes: float = 0.0

    @property
    def allocated_bytes(self) -> float:
        skip = {"cuda_context", "allocator_overhead"}
        return sum(t.bytes for k, t in self.components.items() if k not in skip)

    @property
    def total_bytes(self) -> float:
        return sum(t.bytes for t in self.components.values())


def _quantized_params(spec: ModelSpec) -> tuple[int, int]:
    """(weights bnb quantizes: every Linear inside the decoder layers, their output rows)."""
    mods = spec.linear_modules()
    weights = sum(m.weight_params for m in mods) * spec.num_hidden_layers
    rows = sum(m.out_features * m.instances for m in mods) * spec.num_hidden_layers
    return weights, rows


def weights_term(req: EstimateRequest, spec: ModelSpec, s: Setup) -> Term:
    n_total = spec.param_count()
    shard = s.n_shard if s.sharding in ("zero3", "fsdp") else 1
    if req.method == "full" and s.mixed:
        master_shard = 1 if s.sharding == "none" else s.n_shard
        master = 0.0 if req.offload_optimizer else 4 * n_total / master_shard
        matmul = n_total - spec.embedding_params()
        copies = 2 * (matmul if s.sharding == "none" else (n_total / shard))
        where = "on CPU (offloaded)" if req.offload_optimizer else f"4 B x {n_total:,}{_per(master_shard)}"
        return Term(master + copies, f"fp32 master weights {where} + 16-bit copies 2 B/param "
                    "(autocast casts kept for backward, or ZeRO's bf16 params)")
    if req.quant == "none":
        b = n_total * s.dtype_bytes / shard
        return Term(b, f"{n_total:,} params x {s.dtype_bytes} B ({req.precision}){_per(shard)}")
    q_weights, q_rows = _quantized_params(spec)
    rest = n_total - q_weights
    if req.quant == "nf4":
        per = NF4_CODE_BYTES + (NF4_DQ_ABSMAX_BYTES if req.double_quant else NF4_ABSMAX_BYTES)
        quant = q_weights * per
        how = f"NF4 {per:.4f} B/param ({'double-quantized' if req.double_quant else 'fp32'} absmax per 64)"
    else:
        quant = q_weights * INT8_BYTES + 4 * q_rows
        how = "int8 1 B/param + fp32 scale per output row"
    b = (quant + rest * s.dtype_bytes) / shard
    return Term(b, f"{q_weights:,} layer Linear weights in {how}; embeddings, lm_head, norms, biases "
                f"({rest:,}) in {s.dtype_bytes}-byte {req.precision}{_per(shard)}")


def _per(shard: int) -> str:
    return f", sharded over {shard} GPUs" if shard > 1 else ""


def adapter_term(req: EstimateRequest, s: Setup) -> Term:
    if not req.uses_adapter:
        return Term(0, "no adapter")
    shard = s.n_shard if s.sharding in ("zero3", "fsdp") else 1
    b = s.trainable * s.adapter_bytes / shard
    how = (f"LoRA r={req.lora_rank}: {s.trainable:,} params x {s.adapter_bytes} B "
           f"({'fp32, peft default' if s.adapter_bytes == 4 else '16-bit'}){_per(shard)}")
    if s.adapter_bytes == 4 and s.dtype_bytes == 2:  # autocast caches a 16-bit copy of each adapter weight
        b += s.trainable * 2 / shard
        how += " + autocast's 16-bit copies 2 B"
    return Term(b, how)


def gradients_bytes(s: Setup) -> float:
    shard = s.n_shard if s.sharding in ("zero2", "zero3", "fsdp") else 1
    return s.trainable * s.grad_bytes / shard


def optimizer_term(req: EstimateRequest, spec: ModelSpec, s: Setup) -> tuple[Term, float]:
    """(states kept on the GPU, bytes moved to CPU by offloading)."""
    if not req.is_training:
        return Term(0, "no optimizer (inference)"), 0.0
    state_bytes = s.train_bytes if s.train_bytes else 4
    if req.optimizer == "adamw":
        per, how = 2 * state_bytes, f"AdamW: 2 states x {state_bytes} B"
        total = s.trainable * per
    elif req.optimizer in ("adamw-8bit", "paged-adamw-8bit"):
        per, how = ADAM8_BYTES, "8-bit AdamW: 2 x 1 B + block absmax"
        total = s.trainable * per
        if req.optimizer.startswith("paged"):
            how += " (paged: may be evicted to CPU under pressure; not in torch's memory stats)"
    elif req.optimizer == "sgd":
        total, how = 0.0, "SGD without momentum keeps no state"
    else:
        total, how = _adafactor_bytes(req, spec, s), "Adafactor: factored 2nd moment (rows + cols) x 4 B per matrix"
    shard = s.n_shard if s.sharding != "none" else 1
    if req.offload_optimizer:  # DeepSpeed offload: states and fp32 masters in CPU memory, per rank
        masters = 4 * spec.param_count() if s.mixed else 0
        return Term(0, f"{how}; offloaded to CPU"), (total + masters) / shard
    return Term(total / shard, f"{how} per trainable param ({s.trainable:,}){_per(shard)}"), 0.0


def _adafactor_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup) -> float:
    layers = spec.num_hidden_layers
    if req.uses_adapter:
        mods = spec.targeted_modules(req.lora_targets)
        r = req.lora_rank
        return 4 * layers * sum((2 * r + m.in_features + m.out_features) * m.instances for m in mods)
    mods = spec.linear_modules()
    matrices = layers * sum((m.in_features + m.out_features) * m.instances for m in mods)
    vectors = spec.norm_params() + spec.vocab_size + spec.hidden_size
    return 4 * (matrices + vectors + (spec.vocab_size + spec.hidden_size) * (not spec.tie_word_embeddings))


def quant_buffers(req: EstimateRequest, spec: ModelSpec, s: Setup) -> Term:
    """bnb dequantizes one weight at a time to the compute dtype (forward, and again in backward)."""
    if req.quant == "none":
        return Term(0, "no quantization")
    largest = max(m.in_features * m.out_features for m in spec.linear_modules())
    return Term(largest * s.dtype_bytes, f"one dequantized weight ({largest:,} x {s.dtype_bytes} B), "
                "the largest Linear of a layer")


def comm_buffers(req: EstimateRequest, spec: ModelSpec, s: Setup) -> Term:
    if req.gpus == 1:
        return Term(0, "single GPU")
    if s.sharding == "none":
        b = s.trainable * s.grad_bytes
        return Term(b, "DDP gradient buckets: a second copy of the gradients (gradient_as_bucket_view off)")
    h = spec.hidden_size
    if s.sharding in ("zero1", "zero2"):
        # accelerate's DeepSpeed "auto": reduce_bucket_size = h*h; DeepSpeed allgather bucket 5e8 elements.
        b = 2 * min(s.trainable, h * h) * max(s.grad_bytes, 2) + min(s.trainable, 5e8) * 2
        return Term(b, "ZeRO reduce buckets (2 x h^2) + all-gather bucket (up to 5e8 x 2 B)")
    layer = spec.layer_params() * s.dtype_bytes
    grads = spec.layer_params() * s.grad_bytes if req.method == "full" else 0
    return Term(2 * layer + grads, "gathered 16-bit params of the current and prefetched layer"
                + (" + one layer's unsharded gradients before reduce-scatter" if grads else ""))


def memory_breakdown(req: EstimateRequest, spec: ModelSpec) -> Breakdown:
    """The peak moment's components and every moment's total, in bytes per GPU."""
    s = setup(req, spec)
    weights = weights_term(req, spec, s)
    adapter = adapter_term(req, s)
    optim, cpu = optimizer_term(req, spec, s)
    quant, comm = quant_buffers(req, spec, s), comm_buffers(req, spec, s)
    static = weights.bytes + adapter.bytes + optim.bytes + quant.bytes + comm.bytes
    if not req.is_training:
        acts = inference_activations(req, spec, s)
        phases = {"forward": static + acts.bytes}
        parts = {"activations": acts, "logits_loss": Term(0, "inference keeps no loss buffer"),
                 "gradients": Term(0, "inference computes no gradients")}
        peak = "forward"
    else:
        phases, parts, peak = _training_phases(req, spec, s, static)
    components = {"weights": weights, "adapter": adapter, "gradients": parts["gradients"],
                  "optimizer_states": optim, "activations": parts["activations"],
                  "logits_loss": parts["logits_loss"], "quant_buffers": quant, "comm_buffers": comm}
    dynamic = sum(t.bytes for k, t in components.items() if k in ("gradients", "activations", "logits_loss"))
    components["allocator_overhead"] = Term(
        ALLOCATOR_FIXED_BYTES + ALLOCATOR_DYNAMIC_FRACTION * dynamic,
        f"caching allocator reserved-but-free: {ALLOCATOR_DYNAMIC_FRACTION:.0%} of the changing tensors + 64 MiB")
    components["cuda_context"] = Term(CUDA_CONTEXT_BYTES, "CUDA context and library handles (outside torch's allocator)")
    return Breakdown(components=components, phases=phases, peak_phase=peak, cpu_bytes=cpu)


def _training_phases(req: EstimateRequest, spec: ModelSpec, s: Setup, static: float):
    acts = activation_terms(req, spec, s)
    grads_all = gradients_bytes(s)
    head_grad = 0.0
    if req.method == "full":  # lm_head's gradient is allocated first in backward, activations still held
        head_params = spec.lm_head_params() or spec.embedding_params()
        head_grad = head_params * s.grad_bytes / (s.n_shard if s.sharding in ("zero2", "zero3", "fsdp") else 1)
    # LoRA gradients are tiny and kept; with gradient accumulation every gradient lives across
    # micro-batches, so it coexists with the next micro-batch's activations.
    early_grads = grads_all if (req.uses_adapter or req.gradient_accumulation > 1) else head_grad
    step_temp = 0.0
    if req.optimizer == "adamw" and req.optimizer_foreach and not req.offload_optimizer:
        step_temp = s.trainable * (s.train_bytes or 4) / (s.n_shard if s.sharding != "none" else 1)
    phases = {
        "forward+loss": static + acts["saved"].bytes + acts["loss"].bytes + early_grads,
        "backward": static + acts["saved"].bytes + acts["backward_extra"].bytes + early_grads,
        "optimizer step": static + grads_all + step_temp,
    }
    peak = max(phases, key=phases.get)
    grad_how = f"{s.trainable:,} trainable x {s.grad_bytes} B"
    if peak == "optimizer step":
        parts = {"gradients": Term(grads_all + step_temp, grad_how + (
                     " + foreach AdamW's state-sized temporary" if step_temp else "")),
                 "activations": Term(0, "freed before the optimizer step"),
                 "logits_loss": Term(0, "freed before the optimizer step")}
    else:
        g_how = grad_how if early_grads == grads_all else f"the lm_head gradient ({head_grad / GIB:.2f} GiB) so far"
        if req.gradient_accumulation > 1 and req.method == "full":
            g_how += f", kept across {req.gradient_accumulation} accumulation steps"
        act = acts["saved"].bytes + (acts["backward_extra"].bytes if peak == "backward" else 0)
        act_how = acts["saved"].formula + (f"; + {acts['backward_extra'].formula}" if peak == "backward" else "")
        loss = acts["loss"] if peak == "forward+loss" else Term(0, "freed once the loss backward is done")
        parts = {"gradients": Term(early_grads, g_how), "activations": Term(act, act_how), "logits_loss": loss}
    return phases, parts, peak
