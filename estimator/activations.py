"""Activation memory: what autograd saves per token in a decoder layer, the checkpointed, offloaded
and backward extras, and inference's KV cache (all in bytes). Tensor widths come from the step's
setup (estimator/step_setup.py): the residual stream, Linear outputs and SDPA's saved tensors can
each be fp32 or 16-bit depending on the stack."""
from __future__ import annotations

from collections.abc import Callable

from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.step_setup import Setup, Term

# Which modules read which saved tensor (path suffixes, as peft targets them).
_READS_NORM1 = ("q_proj", "k_proj", "v_proj", "qkv_proj", "attn.c_attn")
_READS_NORM2 = ("gate_proj", "up_proj", "gate_up_proj", "mlp.c_fc", "experts.w1", "experts.w3")
_READS_PRODUCT = ("down_proj", "mlp.c_proj", "experts.w2")
# Activation offloading keeps this many layers' saved tensors on the GPU: the one being computed and
# the one in flight to or from the CPU (torchtune OffloadActivations prefetches one layer ahead;
# unsloth's offloaded checkpointer copies each layer input out as the next layer starts).
OFFLOAD_LAYERS_ON_GPU = 2


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


def _norm_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup, saves) -> float:
    """RMSNorm/LayerNorm: its input upcast to fp32 (pow and mul backward), the normalised tensor in
    the residual dtype when its weight trains, and its output when the next Linear keeps it. Under
    autocast over fp32 weights each Linear keeps its own bf16 cast instead (`_cast_bytes`); a 4-bit
    Linear keeps the compute-dtype cast bitsandbytes makes of an fp32 input."""
    h = spec.hidden_size
    norm_w = s.resid_bytes * h if req.method == "full" else 0
    kept = 0 if s.mixed else (2 if s.rest_fp32 else s.resid_bytes)
    total = sum(4 * h + norm_w + (kept * h if saves(g) else 0) for g in (_READS_NORM1, _READS_NORM2))
    if spec.model_type == "gemma2":  # post-attention/post-feedforward norms: input + weight grad only
        total += 2 * (4 * h + norm_w)
    return total


def layer_activation_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup) -> tuple[float, str]:
    """Bytes autograd saves per token in one decoder layer (transformers 5 modeling files, checked
    against torch's saved-tensor hooks in tests/estimator/test_activations.py), and how they add up."""
    h = spec.hidden_size
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_key_value_heads * spec.head_dim
    saves = _saves_inputs(req, spec, s)
    norm_b = _norm_bytes(req, spec, s, saves)
    # q and k after RoPE, v (SDPA with enable_gqa: not repeated when no padding mask is passed), and
    # SDPA's output (+ logsumexp), which o_proj reads as a free transposed view.
    attn_b = s.sdpa_bytes * (2 * q + 2 * kv)
    mlp_b = _mlp_bytes(spec, s.act_bytes, saves(_READS_PRODUCT), saves(_READS_NORM2))
    cast_b = 2 * sum(m.in_features for m in spec.linear_modules() if m.path.endswith(_READS_NORM1 + _READS_NORM2)) \
        if s.mixed else 0
    lora_b = _lora_input_bytes(req, spec, s) if req.uses_adapter else 0
    eager_b = 0
    if req.attention == "eager":  # fp32 softmax probabilities + the 16-bit copy the AV matmul saves
        eager_b = spec.num_attention_heads * req.seq_len * (4 + (s.sdpa_bytes if s.sdpa_bytes != 4 else 0))
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
    """peft's LoRA branch reads dropout(x cast to the adapter dtype) (tuners/lora/layer.py
    `_cast_input_dtype`), and autocast casts an fp32 input to 16-bit again. Only with p=0, adapters
    in x's dtype and no cast to make does lora_A keep the very input tensor."""
    cast = s.adapter_bytes != s.resid_bytes or (s.autocast and s.resid_bytes != 2)
    return req.lora_dropout > 0 or cast


def _lora_input_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup) -> float:
    """Per token: each targeted module's own input copy (dropout output + mask, or the cast) and
    lora_A's rank-sized output, which lora_B keeps."""
    per_in = (s.mask_bytes if req.lora_dropout > 0 else 0) + (s.lora_cast_bytes if _lora_own_copy(req, s) else 0)
    total = 0.0
    for m in spec.targeted_modules(req.lora_targets):
        total += m.active_instances * (m.in_features * per_in + req.lora_rank * s.lora_cast_bytes)
    return total


def _final_norm_bytes(req: EstimateRequest, spec: ModelSpec, s: Setup) -> float:
    """Per token: the final norm's fp32 input; when the lm_head trains, also its normalised tensor and
    its output (both read again in backward)."""
    h = spec.hidden_size
    if req.method != "full":
        return 4 * h
    return (4 + s.resid_bytes + (2 if s.mixed else s.resid_bytes)) * h  # under autocast the lm_head keeps a bf16 cast


def activation_terms(req: EstimateRequest, spec: ModelSpec, s: Setup) -> dict[str, Term]:
    """Saved activations, the extra of the backward moment, and what offloading moved to CPU."""
    t, h, layers = s.tokens, spec.hidden_size, spec.num_hidden_layers
    per_layer, how = layer_activation_bytes(req, spec, s)
    # Gradient workspace while a layer runs backward: grads of its input/output and MLP tensors.
    experts = spec.num_experts_per_tok if spec.is_moe else 1
    workspace = t * s.act_bytes * (2 * h + 2 * spec.intermediate_size * experts)
    per_layer_saved = s.resid_bytes * h if req.gradient_checkpointing else per_layer
    on_gpu = min(layers, OFFLOAD_LAYERS_ON_GPU) if s.offload else layers
    saved = t * on_gpu * per_layer_saved + t * _final_norm_bytes(req, spec, s)
    offloaded = t * (layers - on_gpu) * per_layer_saved
    what = (f"checkpointing: each layer's input {s.resid_bytes} B x h={h}" if req.gradient_checkpointing
            else f"({how})")
    where = (
        f" x {on_gpu} of {layers} layers on the GPU (the rest offloaded to CPU)" if s.offload else f" x {layers} layers"
    )
    if req.gradient_checkpointing:
        extra, extra_how = t * per_layer + workspace, f"one layer recomputed in backward ({how}) + gradient workspace"
    else:
        extra, extra_how = workspace, "gradient workspace of the layer in backward"
    return {
        "saved": Term(saved, f"{t:,} tokens x {what}{where} + the final norm"),
        "backward_extra": Term(extra, extra_how),
        "offloaded": Term(offloaded, "activations offloaded to CPU memory"),
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
