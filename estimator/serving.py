"""Serving time and cost: prefill is compute-bound, decoding is bandwidth-bound.

Per request of P prompt and O output tokens, with C requests decoded together on G GPUs:
  prefill_s  = max(P x (2M + 2 L P d) / (G x peak x MFU), W / (G x BW x MBU))
               (2 FLOPs per weight a token multiplies, Kaplan et al. 2020 section 2.1; causal
               attention: a prompt token attends to P/2 tokens on average, 4 L d FLOPs per token
               attended, PaLM appendix B)
  step_s     = max((W + C x (P + O/2) x kv) / (G x BW x MBU), C x (2M + 4 L (P + O/2) d) / (G x peak x MFU))
               (each decoding step reads every weight once for all C requests, plus each request's
               KV cache at its mean length; MoE reads only the experts the batch's tokens pick)
  latency_s  = C x prefill_s + (O - 1) x step_s
               (the first token comes from the prefill; in steady state the GPU runs every one of the
               C requests' prefills during one request's lifetime)
  usd / 1k   = 1000 x latency_s / C x G x $ per GPU-hour / 3600
where M = matmul weights (estimator/training_time.py), W = weight bytes per GPU, kv = KV-cache bytes
per token (2 x L x kv_heads x head_dim x dtype), BW = the catalog's datasheet bandwidth. MFU and
MBU (the shares of peak compute and bandwidth reached) are stated inputs, not measured here.
Not modelled: tensor-parallel all-reduces, scheduler and sampling overheads, speculative decoding.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from common.vocabulary import Precision, Quant
from estimator.gpus import Gpu, load_gpu
from estimator.model_catalog import load_model_spec
from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.static_memory import weights_term
from estimator.step_setup import DTYPE_BYTES, GIB, setup
from estimator.training_time import matmul_params


class ServingRequest(BaseModel):
    """One serving workload: a model on a GPU type, requests of P prompt and O output tokens."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="Model: catalog name, Hugging Face id, config.json path or size.")
    gpu: str = Field(min_length=1, description="GPU type from the catalog.")
    prompt_tokens: float = Field(gt=0, le=2_097_152, description="Prompt tokens per request (a mean is fine).")
    output_tokens: float = Field(ge=0, le=2_097_152, description="Generated tokens per request (a mean is fine).")
    concurrency: int = Field(1, ge=1, le=65_536, description="Requests decoded together (continuous batching).")
    gpus: int = Field(1, ge=1, le=64, description="GPUs the model is split over (tensor parallel).")
    precision: Precision | None = Field(
        None, description="Weights and KV cache dtype (empty: bf16, fp16 without bf16)."
    )
    quant: Quant = Field("none", description="Weight quantization: none, int8 or nf4 (the KV cache stays 16-bit).")
    mfu: float = Field(0.4, gt=0, le=1, description="Share of the dense peak prefill reaches.")
    mbu: float = Field(0.6, gt=0, le=1, description="Share of the memory bandwidth decoding reaches.")


class ServingEstimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpu: str
    prefill_s: float = Field(description="Time to process one request's prompt (time to first token, alone).")
    decode_step_s: float = Field(description="One decoding step for all concurrent requests.")
    decode_tokens_per_s: float = Field(description="Tokens per second each request receives while decoding.")
    total_tokens_per_s: float = Field(description="Generated tokens per second over all concurrent requests.")
    latency_s: float = Field(description="Seconds from request to its last token, at this concurrency.")
    gpu_seconds_per_query: float = Field(description="GPU-seconds one request costs (all GPUs counted).")
    usd_per_1k_queries: float
    decode_bound: str = Field(description="What limits a decoding step: memory bandwidth or compute.")
    weights_gib: float = Field(description="Weight bytes read per decoding step, per GPU.")
    kv_cache_gib: float = Field(description="KV cache of all concurrent requests at full length.")
    formula: str


def serving_estimate(req: ServingRequest, spec: ModelSpec | None = None) -> ServingEstimate:
    """Prefill, decode, latency and $ per 1k queries for `req` (pure arithmetic, no torch)."""
    spec = spec or load_model_spec(req.model)
    gpu = load_gpu(req.gpu)
    if gpu.memory_bandwidth_gbs is None:
        from estimator.errors import EstimatorError

        raise EstimatorError(f"gpu: {gpu.name} has no memory_bandwidth_gbs in the GPU catalog; add it to serve")
    precision = req.precision or ("bf16" if gpu.bf16 else "fp16")
    weight_bytes = _weight_bytes(spec, req, precision) / req.gpus
    kv_token = 2 * spec.num_hidden_layers * spec.num_key_value_heads * spec.head_dim * DTYPE_BYTES[precision]
    m, d, layers = matmul_params(spec), spec.num_attention_heads * spec.head_dim, spec.num_hidden_layers
    bw = req.gpus * gpu.memory_bandwidth_gbs * 1e9 * req.mbu
    flops_s = req.gpus * gpu.peak_tflops(precision) * 1e12 * req.mfu
    p, o, c = req.prompt_tokens, req.output_tokens, req.concurrency
    read = weight_bytes * req.gpus * _expert_share_read(spec, c)
    prefill = max(p * (2 * m + 2 * layers * p * d) / flops_s, read / bw)
    context = p + o / 2
    step_mem = (read + c * context * kv_token) / bw
    step_compute = c * (2 * m + 4 * layers * context * d) / flops_s
    step = max(step_mem, step_compute)
    latency = c * prefill + max(o - 1, 0) * step
    gpu_s = latency / c * req.gpus
    return ServingEstimate(
        gpu=gpu.name, prefill_s=prefill, decode_step_s=step, decode_tokens_per_s=1 / step,
        total_tokens_per_s=c / step, latency_s=latency, gpu_seconds_per_query=gpu_s,
        usd_per_1k_queries=1000 * gpu_s * gpu.usd_per_hour / 3600,
        decode_bound="memory bandwidth" if step_mem >= step_compute else "compute",
        weights_gib=weight_bytes / GIB, kv_cache_gib=c * (p + o) * kv_token / GIB,
        formula=(f"prefill {p:g} tokens x 2 x {m:,} weights at {req.mfu:g} x {gpu.peak_tflops(precision):g} TFLOPS; "
                 f"each step reads {read / GIB:.2f} GiB of weights + {c} x {context:g} tokens x {kv_token:,} B of KV "
                 f"at {req.mbu:g} x {gpu.memory_bandwidth_gbs:g} GB/s x {req.gpus} GPU(s)"),
    )


def _weight_bytes(spec: ModelSpec, req: ServingRequest, precision: str) -> float:
    inference = EstimateRequest(model=spec.name, method="inference", quant=req.quant, precision=precision)
    return weights_term(inference, spec, setup(inference, spec)).bytes


def _expert_share_read(spec: ModelSpec, concurrency: int) -> float:
    """The share of the weights a decoding step reads: all of a dense model; for MoE the shared
    part plus the experts the batch's tokens route to (at most all of them)."""
    if not spec.is_moe:
        return 1.0
    experts = sum(m.weight_params for m in spec.linear_modules() if m.instances > 1) * spec.num_hidden_layers
    share = experts / spec.param_count()
    picked = min(1.0, concurrency * spec.num_experts_per_tok / spec.num_local_experts)
    return 1 - share + share * picked


def serving_for(req: EstimateRequest, spec: ModelSpec, gpu: Gpu) -> ServingEstimate | None:
    """The serving block of an inference estimate that names prompt and output tokens."""
    if req.method != "inference" or req.prompt_tokens is None:
        return None
    return serving_estimate(ServingRequest(
        model=spec.name, gpu=gpu.name, prompt_tokens=req.prompt_tokens, output_tokens=req.output_tokens or 0,
        concurrency=req.concurrency, gpus=req.gpus, precision=req.precision, quant=req.quant, mfu=req.mfu,
        mbu=req.mbu), spec)
