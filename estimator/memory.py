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

from collections.abc import Callable
from dataclasses import dataclass

from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest

GIB = 1024**3
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}

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
# Chunked cross-entropy (torchtune CEWithChunkedOutputLoss, liger-style): fp32 work on one chunk of 8.
LOSS_CHUNKS = 8


@dataclass
class Term:
    bytes: float
    formula: str


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


@dataclass
class _Setup:
    """Derived facts about the request that several terms need."""

    n_shard: int
    sharding: str
    dtype_bytes: int  # bytes per element of the weights/compute dtype (2 for 16-bit, 4 for fp32)
    mixed: bool  # full FT with fp32 master weights under autocast
    adapter_bytes: int
    trainable: int
    train_bytes: int  # bytes per trainable parameter (and its optimizer state dtype)
    grad_bytes: int  # bytes per gradient on the GPU (16-bit when offloading keeps fp32 grads on CPU)
    tokens: int


def _setup(req: EstimateRequest, spec: ModelSpec) -> _Setup:
    wb = DTYPE_BYTES[req.precision]
    sixteen = req.precision != "fp32"
    mixed = req.method == "full" and sixteen and not req.pure_bf16
    adapter_bytes = wb if (req.pure_bf16 or not sixteen) else 4  # peft keeps adapters in fp32
    if req.method == "full":
        trainable, train_bytes = spec.param_count(), (4 if mixed or not sixteen else 2)
    elif req.uses_adapter:
        trainable, train_bytes = spec.lora_params(req.lora_rank, req.lora_targets), adapter_bytes
    else:
        trainable, train_bytes = 0, 0
    n = req.gpus if req.sharding != "none" else 1
    return _Setup(
        n_shard=n, sharding=req.sharding if req.gpus > 1 else "none", dtype_bytes=wb,
        mixed=mixed, adapter_bytes=adapter_bytes, trainable=trainable, train_bytes=train_bytes,
        grad_bytes=2 if (mixed and req.offload_optimizer) else train_bytes,
        tokens=req.batch_size * req.seq_len,
    )


def _quantized_params(spec: ModelSpec) -> tuple[int, int]:
    """(weights bnb quantizes: every Linear inside the decoder layers, their output rows)."""
    mods = spec.linear_modules()
    weights = sum(m.weight_params for m in mods) * spec.num_hidden_layers
    rows = sum(m.out_features * m.instances for m in mods) * spec.num_hidden_layers
    return weights, rows


def weights_term(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> Term:
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


def adapter_term(req: EstimateRequest, s: _Setup) -> Term:
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


def gradients_bytes(s: _Setup) -> float:
    shard = s.n_shard if s.sharding in ("zero2", "zero3", "fsdp") else 1
    return s.trainable * s.grad_bytes / shard


def optimizer_term(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> tuple[Term, float]:
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


def _adafactor_bytes(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> float:
    layers = spec.num_hidden_layers
    if req.uses_adapter:
        mods = spec.targeted_modules(req.lora_targets)
        r = req.lora_rank
        return 4 * layers * sum((2 * r + m.in_features + m.out_features) * m.instances for m in mods)
    mods = spec.linear_modules()
    matrices = layers * sum((m.in_features + m.out_features) * m.instances for m in mods)
    vectors = spec.norm_params() + spec.vocab_size + spec.hidden_size
    return 4 * (matrices + vectors + (spec.vocab_size + spec.hidden_size) * (not spec.tie_word_embeddings))


# Which modules read which saved tensor (path suffixes, as peft targets them).
_READS_NORM1 = ("q_proj", "k_proj", "v_proj", "qkv_proj", "attn.c_attn")
_READS_NORM2 = ("gate_proj", "up_proj", "gate_up_proj", "mlp.c_fc", "experts.w1", "experts.w3")
_READS_PRODUCT = ("down_proj", "mlp.c_proj", "experts.w2")


def _saves_inputs(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> Callable[[tuple[str, ...]], bool]:
    """Whether a module group keeps its (shared) input for backward. A frozen Linear needs only its
    weight for the input gradient, so it saves nothing; a trained one saves its input, and so does a
    LoRA branch reading the same tensor (unless it casts or drops out into a copy of its own)."""
    if req.method == "full" or (req.quant != "none" and req.quant_saves_inputs):
        return lambda group: True
    if not req.uses_adapter or _lora_own_copy(req, s):
        return lambda group: False
    paths = [m.path for m in spec.targeted_modules(req.lora_targets)]
    return lambda group: any(p.endswith(g) for p in paths for g in group)


def layer_activation_bytes(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> tuple[float, str]:
    """Bytes autograd saves per token in one decoder layer (transformers 5 modeling files, checked
    against torch's saved-tensor hooks in tests/estimator/test_memory.py), and how they add up."""
    h, a = spec.hidden_size, s.dtype_bytes
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_key_value_heads * spec.head_dim
    saves = _saves_inputs(req, spec, s)
    full = req.method == "full"
    # RMSNorm/LayerNorm: its input upcast to fp32 (pow and mul backward), the normalised tensor
    # when its weight trains, and its output when the next Linear keeps it. Under autocast the
    # normalised tensor stays fp32 and each Linear keeps its own bf16 cast instead (cast_b).
    norm_w = (4 if s.mixed else a) * h if full else 0
    norm_b = sum(4 * h + norm_w + (a * h if saves(g) and not s.mixed else 0) for g in (_READS_NORM1, _READS_NORM2))
    if spec.model_type == "gemma2":  # post-attention/post-feedforward norms: input + weight grad only
        norm_b += 2 * (4 * h + norm_w)
    # q and k after RoPE, v (SDPA with enable_gqa: not repeated when no padding mask is passed), and
    # SDPA's output (+ logsumexp), which o_proj reads as a free transposed view.
    attn_b = 2 * (2 * q + 2 * kv) if s.mixed else a * (2 * q + 2 * kv)
    mlp_b = _mlp_bytes(spec, 2 if s.mixed else a, saves(_READS_PRODUCT), saves(_READS_NORM2))
    cast_b = 2 * sum(m.in_features for m in spec.linear_modules() if m.path.endswith(_READS_NORM1 + _READS_NORM2)) \
        if s.mixed else 0
    lora_b = _lora_input_bytes(req, spec, s) if req.uses_adapter else 0
    eager_b = 0
    if req.attention == "eager":  # fp32 softmax probabilities + the 16-bit copy the AV matmul saves
        eager_b = spec.num_attention_heads * req.seq_len * (4 + (a if a != 4 else 0))
    total = norm_b + attn_b + mlp_b + cast_b + lora_b + eager_b
    parts = [f"norms {norm_b / h:.1f}h", f"attention {attn_b / h:.1f}h", f"MLP {mlp_b / h:.1f}h"]
    parts += [f"{n} {v / h:.1f}h" for n, v in (("autocast copies", cast_b), ("LoRA inputs", lora_b),
                                                ("eager S^2 scores", eager_b)) if v]
    return total, " + ".join(parts) + f" bytes/token (h={h})"


def _mlp_bytes(spec: ModelSpec, a: int, keeps_product: bool, keeps_input: bool) -> float:
    """gate out (SiLU's input), up out and act(gate) (the product's inputs), and the product when
    down_proj keeps it; gpt2's gelu_new keeps ~4 intermediate-sized tensors of its tanh formula."""
    i, h = spec.intermediate_size, spec.hidden_size
    if spec.model_type == "gpt2":
        return a * (4 * i + (i if keeps_product else 0))
    if not spec.is_moe:
        return a * (3 * i + (i if keeps_product else 0))
    # MoE (modeling_mixtral expert loop): per picked expert the gathered input (when its Linear keeps
    # it) and the routing-weighted output, plus the router's fp32 probabilities.
    per_expert = a * (3 * i + (i if keeps_product else 0) + (h if keeps_input else 0) + h)
    return spec.num_experts_per_tok * per_expert + 4 * spec.num_local_experts


def _lora_own_copy(req: EstimateRequest, s: _Setup) -> bool:
    """peft's LoRA branch reads dropout(x cast to the adapter dtype); under autocast fp32 adapters
    get a 16-bit cast of it. With p=0 and 16-bit adapters lora_A keeps the very input tensor."""
    return req.lora_dropout > 0 or s.adapter_bytes != s.dtype_bytes


def _lora_input_bytes(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> float:
    """Per token: each targeted module's own input copy (dropout output + 1-byte mask, or the autocast
    cast) and lora_A's rank-sized output, which lora_B keeps."""
    compute = s.dtype_bytes
    per_in = (1 if req.lora_dropout > 0 else 0) + (compute if _lora_own_copy(req, s) else 0)
    total = 0.0
    for m in spec.targeted_modules(req.lora_targets):
        total += m.active_instances * (m.in_features * per_in + req.lora_rank * compute)
    return total


def loss_bytes_per_token(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> tuple[float, str]:
    """The logits and the cross-entropy's fp32 buffers, per token, at the loss (its largest moment)."""
    v, a = spec.vocab_size, s.dtype_bytes
    if req.loss == "chunked":
        per = v * (a + 4 + 12 / LOSS_CHUNKS)
        return per, (f"logits {a} B + saved fp32 log-probs 4 B + one chunk's fp32 work 12/{LOSS_CHUNKS} B, "
                     f"x vocab {v:,}")
    # The .float() copy is freed once log_softmax has run; at the loss backward the 16-bit logits,
    # the saved fp32 log-probs, their gradient and the logits' fp32 gradient are alive together.
    per = v * (a + 4 + 4 + 4)
    return per, (f"logits {a} B + fp32 log-probs 4 B + their gradient 4 B + logits gradient 4 B, "
                 f"x vocab {v:,} (transformers ForCausalLMLoss upcasts to fp32)")


def activation_terms(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> dict[str, Term]:
    """Saved activations, the extra of the backward moment, and the loss buffer, for all tokens."""
    t, h, a, layers = s.tokens, spec.hidden_size, s.dtype_bytes, spec.num_hidden_layers
    per_layer, how = layer_activation_bytes(req, spec, s)
    resid = 4 if s.mixed else a  # the residual stream is fp32 under autocast over fp32 weights
    # Gradient workspace while a layer runs backward: grads of its input/output and MLP tensors.
    workspace = t * a * (2 * h + 2 * spec.intermediate_size * (spec.num_experts_per_tok if spec.is_moe else 1))
    if req.gradient_checkpointing:
        saved = t * layers * resid * h
        saved_how = f"checkpointing: each layer's input {resid} B x h={h} x {layers} layers x {t:,} tokens"
        extra = t * per_layer + workspace
        extra_how = f"one layer recomputed in backward ({how}) + gradient workspace"
    else:
        saved = t * layers * per_layer
        saved_how = f"{t:,} tokens x {layers} layers x ({how})"
        extra, extra_how = workspace, "gradient workspace of the layer in backward"
    # The final norm: its fp32 input; when the lm_head trains, also the normalised tensor and its output.
    if req.method == "full":
        saved += t * (10 * h if s.mixed else (4 + 2 * a) * h)
    else:
        saved += t * 4 * h
    loss_per_token, loss_how = loss_bytes_per_token(req, spec, s)
    return {
        "saved": Term(saved, saved_how),
        "backward_extra": Term(extra, extra_how),
        "loss": Term(t * loss_per_token, f"{t:,} tokens x ({loss_how})"),
    }


def inference_activations(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> Term:
    """KV cache for batch x seq_len tokens + one layer's working tensors during prefill."""
    t, a, h = s.tokens, s.dtype_bytes, spec.hidden_size
    kv = spec.num_key_value_heads * spec.head_dim
    cache = 2 * spec.num_hidden_layers * kv * a * t
    k = spec.num_experts_per_tok if spec.is_moe else 1
    work = t * a * (3 * h + 2 * kv + 3 * spec.intermediate_size * k)
    if req.attention == "eager":
        work += req.batch_size * spec.num_attention_heads * req.seq_len**2 * (4 + a)
    return Term(cache + work, f"KV cache 2 x {spec.num_hidden_layers} layers x {kv} x {a} B x {t:,} tokens "
                "+ one layer's prefill tensors (generate keeps only the last position's logits)")


def quant_buffers(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> Term:
    """bnb dequantizes one weight at a time to the compute dtype (forward, and again in backward)."""
    if req.quant == "none":
        return Term(0, "no quantization")
    largest = max(m.in_features * m.out_features for m in spec.linear_modules())
    return Term(largest * s.dtype_bytes, f"one dequantized weight ({largest:,} x {s.dtype_bytes} B), "
                "the largest Linear of a layer")


def comm_buffers(req: EstimateRequest, spec: ModelSpec, s: _Setup) -> Term:
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
    s = _setup(req, spec)
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


def _training_phases(req: EstimateRequest, spec: ModelSpec, s: _Setup, static: float):
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
