"""The memory that lives through a whole step: weights, adapter, gradients, optimizer states,
quantization and communication buffers (bytes per GPU). Bytes per element follow the dtypes the
stack keeps (estimator/stacks.py); bitsandbytes' layouts are cited at each constant.
"""
from __future__ import annotations

from common.vocabulary import SHARDING
from estimator.model_spec import ModelSpec
from estimator.request import EIGHT_BIT_OPTIMIZERS, EstimateRequest
from estimator.step_setup import Setup, Term

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


def _quantized_params(spec: ModelSpec) -> tuple[int, int]:
    """(weights bnb quantizes: every Linear inside the decoder layers, their output rows)."""
    mods = spec.linear_modules()
    weights = sum(m.weight_params for m in mods) * spec.num_hidden_layers
    rows = sum(m.out_features * m.instances for m in mods) * spec.num_hidden_layers
    return weights, rows


def weights_term(req: EstimateRequest, spec: ModelSpec, setup: Setup) -> Term:
    n_total = spec.param_count()
    shard = setup.n_shard if SHARDING[setup.sharding].weights else 1
    if req.method == "full" and setup.mixed:
        master_shard = setup.n_shard if SHARDING[setup.sharding].optimizer else 1  # fp32 masters go with the states
        master = 0.0 if req.offload_optimizer else 4 * n_total / master_shard
        matmul = n_total - spec.embedding_params()
        copies = 2 * (matmul if setup.sharding == "none" else (n_total / shard))
        where = "on CPU (offloaded)" if req.offload_optimizer else f"4 B x {n_total:,}{_per(master_shard)}"
        return Term(master + copies, f"fp32 master weights {where} + 16-bit copies 2 B/param "
                    "(autocast casts kept for backward, or ZeRO's bf16 params)")
    if req.quant == "none":
        nbytes = n_total * setup.dtype_bytes / shard
        return Term(nbytes, f"{n_total:,} params x {setup.dtype_bytes} B ({req.precision}){_per(shard)}")
    q_weights, q_rows = _quantized_params(spec)
    rest = n_total - q_weights
    rest_bytes = 4 if setup.rest_fp32 else setup.dtype_bytes  # prepare_model_for_kbit_training casts them to fp32
    if req.quant == "nf4":
        per = NF4_CODE_BYTES + (NF4_DQ_ABSMAX_BYTES if req.double_quant else NF4_ABSMAX_BYTES)
        quant = q_weights * per
        how = f"NF4 {per:.4f} B/param ({'double-quantized' if req.double_quant else 'fp32'} absmax per 64)"
    else:
        quant = q_weights * INT8_BYTES + 4 * q_rows
        how = "int8 1 B/param + fp32 scale per output row"
    nbytes = (quant + rest * rest_bytes) / shard
    rest_how = "fp32 (prepare_model_for_kbit_training)" if setup.rest_fp32 else f"{rest_bytes}-byte {req.precision}"
    return Term(nbytes, f"{q_weights:,} layer Linear weights in {how}; embeddings, lm_head, norms, biases "
                f"({rest:,}) in {rest_how}{_per(shard)}")


def _per(shard: int) -> str:
    return f", sharded over {shard} GPUs" if shard > 1 else ""


def adapter_term(req: EstimateRequest, setup: Setup) -> Term:
    if not req.uses_adapter:
        return Term(0, "no adapter")
    shard = setup.n_shard if SHARDING[setup.sharding].weights else 1
    nbytes = setup.trainable * setup.adapter_bytes / shard
    how = (f"LoRA r={req.lora_rank}: {setup.trainable:,} params x {setup.adapter_bytes} B "
           f"({'fp32, peft default' if setup.adapter_bytes == 4 else '16-bit'}){_per(shard)}")
    if setup.adapter_bytes == 4 and setup.autocast:  # autocast caches a 16-bit copy of each adapter weight
        nbytes += setup.trainable * 2 / shard
        how += " + autocast's 16-bit copies 2 B"
    return Term(nbytes, how)


def gradients_bytes(setup: Setup) -> float:
    shard = setup.n_shard if SHARDING[setup.sharding].gradients else 1
    return setup.trainable * setup.grad_bytes / shard


def optimizer_term(req: EstimateRequest, spec: ModelSpec, setup: Setup) -> tuple[Term, float]:
    """(states kept on the GPU, bytes moved to CPU by offloading)."""
    if not req.is_training:
        return Term(0, "no optimizer (inference)"), 0.0
    state_bytes = setup.train_bytes if setup.train_bytes else 4
    if req.optimizer == "adamw":
        per, how = 2 * state_bytes, f"AdamW: 2 states x {state_bytes} B"
        total = setup.trainable * per
    elif req.optimizer in EIGHT_BIT_OPTIMIZERS:
        per, how = ADAM8_BYTES, "8-bit AdamW: 2 x 1 B + block absmax"
        total = setup.trainable * per
        if req.optimizer.startswith("paged"):
            how += " (paged: may be evicted to CPU under pressure; not in torch's memory stats)"
    elif req.optimizer == "sgd":
        total, how = 0.0, "SGD without momentum keeps no state"
    else:
        total, how = _adafactor_bytes(req, spec, setup), "Adafactor: factored 2nd moment (rows + cols) x 4 B per matrix"
    shard = setup.n_shard if SHARDING[setup.sharding].optimizer else 1
    if req.offload_optimizer:  # DeepSpeed offload: states and fp32 masters in CPU memory, per rank
        masters = 4 * spec.param_count() if setup.mixed else 0
        return Term(0, f"{how}; offloaded to CPU"), (total + masters) / shard
    return Term(total / shard, f"{how} per trainable param ({setup.trainable:,}){_per(shard)}"), 0.0


def _adafactor_bytes(req: EstimateRequest, spec: ModelSpec, setup: Setup) -> float:
    layers = spec.num_hidden_layers
    if req.uses_adapter:
        mods = spec.targeted_modules(req.lora_targets)
        rank = req.lora_rank
        return 4 * layers * sum((2 * rank + m.in_features + m.out_features) * m.instances for m in mods)
    mods = spec.linear_modules()
    matrices = layers * sum((m.in_features + m.out_features) * m.instances for m in mods)
    vectors = spec.norm_params() + spec.vocab_size + spec.hidden_size
    return 4 * (matrices + vectors + (spec.vocab_size + spec.hidden_size) * (not spec.tie_word_embeddings))


def quant_buffers(req: EstimateRequest, spec: ModelSpec, setup: Setup) -> Term:
    """bnb dequantizes one weight at a time to the compute dtype (forward, and again in backward)."""
    if req.quant == "none":
        return Term(0, "no quantization")
    largest = max(m.in_features * m.out_features for m in spec.linear_modules())
    return Term(largest * setup.dtype_bytes, f"one dequantized weight ({largest:,} x {setup.dtype_bytes} B), "
                "the largest Linear of a layer")


def comm_buffers(req: EstimateRequest, spec: ModelSpec, setup: Setup) -> Term:
    if req.gpus == 1:
        return Term(0, "single GPU")
    if setup.sharding == "none":
        nbytes = setup.trainable * setup.grad_bytes
        return Term(nbytes, "DDP gradient buckets: a second copy of the gradients (gradient_as_bucket_view off)")
    hidden = spec.hidden_size
    if not SHARDING[setup.sharding].weights:  # ZeRO-1/2
        # accelerate's DeepSpeed "auto": reduce_bucket_size = h*h; DeepSpeed allgather bucket 5e8 elements.
        nbytes = 2 * min(setup.trainable, hidden * hidden) * max(setup.grad_bytes, 2) + min(setup.trainable, 5e8) * 2
        return Term(nbytes, "ZeRO reduce buckets (2 x h^2) + all-gather bucket (up to 5e8 x 2 B)")
    layer = spec.layer_params() * setup.dtype_bytes
    grads = spec.layer_params() * setup.grad_bytes if req.method == "full" else 0
    return Term(2 * layer + grads, "gathered 16-bit params of the current and prefetched layer"
                + (" + one layer's unsharded gradients before reduce-scatter" if grads else ""))
