"""Training FLOPs per token, time and cost.

Per token, a matmul with P weights costs 2P FLOPs forward (one multiply-add per weight). Backward
costs 4P: 2P for the activation gradient (dL/dx = dL/dy W^T) and 2P for the weight gradient
(dL/dW = x^T dL/dy). So:
  full fine-tuning   6M                    (Kaplan et al. 2020, section 2.1)
  LoRA / QLoRA       4M + 6A               frozen weights still pass activation gradients back but
                                           skip their 2M weight-gradient GEMMs; A = adapter params
  + checkpointing    + 2M                  the forward runs again in backward
where M counts the weights each token multiplies (MoE: only the top-k experts; the lm_head is a
matmul, the embedding lookup is not). Attention adds, per layer and token, QK^T and AV: 2 x 2 S d
FLOPs forward (d = heads x head_dim, S = sequence length), 8 S d backward: 12 L S d in all (PaLM,
Chowdhery et al. 2022, appendix B; not halved for the causal mask, as PaLM counts it).

time = tokens x epochs x FLOPs/token / (gpus x dense peak x MFU). MFU 0.4 is a typical fine-tuning
utilisation with FlashAttention on A100/H100 (PaLM reports 46% for pre-training at scale).
QLoRA dequantises every 4-bit weight in forward and again in backward: LitGPT's resource tables
(A100, bitsandbytes 0.41) show 1.56x (Llama 2 7B) and 2.0x (13B) the LoRA time per iteration;
we use 1.6x. LLM.int8 matmuls (outlier decomposition) are slower still: 2.0x, a rough figure.
"""
from __future__ import annotations

from dataclasses import dataclass

from estimator.gpus import Gpu
from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest

QUANT_SLOWDOWN = {"none": 1.0, "nf4": 1.6, "int8": 2.0}


@dataclass
class Flops:
    per_token: float
    formula: str


def matmul_params(spec: ModelSpec) -> int:
    """Weights a token multiplies: active params minus the embedding lookup, plus a tied lm_head."""
    tied_head = spec.vocab_size * spec.hidden_size if spec.tie_word_embeddings else 0
    return spec.active_params() - spec.embedding_params() - spec.norm_params() + tied_head


def flops_per_token(req: EstimateRequest, spec: ModelSpec) -> Flops:
    m = matmul_params(spec)
    d = spec.num_attention_heads * spec.head_dim
    attn_fwd = 4 * spec.num_hidden_layers * req.seq_len * d
    if not req.is_training:
        return Flops(2 * m + attn_fwd, f"2M + 4LSd (M={m:,} matmul weights)")
    if req.method == "full":
        base, how = 6 * m, "6M"
    else:
        adapter = spec.lora_params(req.lora_rank, req.lora_targets)
        base, how = 4 * m + 6 * adapter, f"4M + 6A (A={adapter:,})"
    total = base + 3 * attn_fwd
    how += " + 12LSd"
    if req.gradient_checkpointing:
        head = spec.vocab_size * spec.hidden_size
        total += 2 * (m - head) + attn_fwd
        how += " + recompute 2(M - lm_head) + 4LSd"
    return Flops(total, f"{how} (M={m:,} matmul weights, L={spec.num_hidden_layers}, S={req.seq_len}, d={d})")


def training_hours(req: EstimateRequest, spec: ModelSpec, gpu: Gpu, gpus: int) -> tuple[float, str]:
    """Wall-clock hours for train_tokens x epochs on `gpus` GPUs of type `gpu`."""
    flops = flops_per_token(req, spec)
    tokens = (req.train_tokens or 0) * req.epochs
    peak = gpu.peak_tflops(req.precision) * 1e12
    slowdown = QUANT_SLOWDOWN[req.quant]
    seconds = tokens * flops.per_token / (gpus * peak * req.mfu) * slowdown
    how = (f"{tokens:,.0f} tokens x {flops.per_token:,.0f} FLOPs/token / ({gpus} x {peak / 1e12:g} TFLOPS "
           f"x MFU {req.mfu:g})" + (f" x {slowdown:g} {req.quant} dequant slowdown" if slowdown != 1 else ""))
    return seconds / 3600, how


def cost_usd(hours: float, gpu: Gpu, gpus: int) -> float:
    return hours * gpus * gpu.usd_per_hour
