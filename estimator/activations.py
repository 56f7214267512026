"""Activation memory: what autograd saves per token in a decoder layer, the checkpointed and
backward extras, the logits/loss buffer, and inference's KV cache (all in bytes)."""
from __future__ import annotations

from collections.abc import Callable

from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.terms import Setup, Term

# Chunked cross-entropy (torchtune CEWithChunkedOutputLoss, liger-style): fp32 work on one chunk of 8.
LOSS_CHUNKS = 8

# Which modules read which saved tensor (path suffixes, as peft targets them).
_READS_NORM1 = ("q_proj", "k_proj", "v_proj", "qkv_proj", "attn.c_attn")
_READS_NORM2 = ("gate_proj", "up_proj", "gate_up_proj", "mlp.c_fc", "experts.w1", "experts.w3")
_READS_PRODUCT = ("down_proj", "mlp.c_proj", "experts.w2")


def _saves_inputs(req: EstimateRequest, spec: ModelSpec, s: Setup) -> Callable[[tuple[str, ...]], bool]:
    """Whether a module group keeps its (shared) input for backward. A frozen Linear needs only its
    weight for the input gradient, so it saves nothing; a trained one saves its input, and so does a
    LoRA branch reading the same tensor (unless it casts or drops out into a copy of its own)."""
    if req.method == "full" or (req.quant != "none" and req.quant_saves_inputs):
        return lambda group: True
    if not req.uses_adapter or _lora_own_copy(req, s):
        return lambda group: False
    paths = [m.path for m in spec.targeted_modules(req.lora_targets)]
    return lambda group: any(p.endswith(g) for p in paths for g in group)


def layer_activation_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup) -> tuple[float, str]:
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


def _lora_own_copy(req: EstimateRequest, s: Setup) -> bool:
    """peft's LoRA branch reads dropout(x cast to the adapter dtype); under autocast fp32 adapters
    get a 16-bit cast of it. With p=0 and 16-bit adapters lora_A keeps the very input tensor."""
    return req.lora_dropout > 0 or s.adapter_bytes != s.dtype_bytes


def _lora_input_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup) -> float:
    """Per token: each targeted module's own input copy (dropout output + 1-byte mask, or the autocast
    cast) and lora_A's rank-sized output, which lora_B keeps."""
    compute = s.dtype_bytes
    per_in = (1 if req.lora_dropout > 0 else 0) + (compute if _lora_own_copy(req, s) else 0)
    total = 0.0
    for m in spec.targeted_modules(req.lora_targets):
        total += m.active_instances * (m.in_features * per_in + req.lora_rank * compute)
    return total


def loss_bytes_per_token(req: EstimateRequest, spec: ModelSpec, s: Setup) -> tuple[float, str]:
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


def activation_terms(req: EstimateRequest, spec: ModelSpec, s: Setup) -> dict[str, Term]:
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


def inference_activations(req: EstimateRequest, spec: ModelSpec, s: Setup) -> Term:
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
