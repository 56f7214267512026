"""`ftadvisor estimate` (memory, fit, time, cost) and `ftadvisor gpus` (the GPU catalog).

Flags map one to one onto `estimator.EstimateRequest` fields; a flag not given leaves the field's
default, so the defaults live in one place. Bad values exit 2 with one line naming the field.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import get_args

# flag -> EstimateRequest field, for the flags whose names differ.
_FIELD = {"rank": "lora_rank", "targets": "lora_targets", "grad_accum": "gradient_accumulation"}


def register(subparsers: argparse._SubParsersAction) -> None:
    from common.vocabulary import DEVICES, LOSSES, STACKS
    from estimator.request import Method, Optimizer, Precision, Quant, Sharding

    p = subparsers.add_parser(
        "estimate", help="per-GPU memory breakdown, which GPUs fit, time and cost",
        description="Estimate peak GPU memory per component (GiB), which catalog GPUs fit, and "
        "training time and cost when --gpu and --train-tokens are given.",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("--model", required=True, help="catalog name, Hugging Face id, config.json path or size (7b)")
    p.add_argument("--method", choices=get_args(Method), help="inference, full, lora or qlora (default lora)")
    p.add_argument("--stack", choices=STACKS, help="training stack whose dtypes and loss are modelled (default trl)")
    p.add_argument("--device", choices=DEVICES, help="cuda (a GPU, default) or cpu (our backend: fp32, no CUDA context)")
    p.add_argument("--rank", type=int, help="LoRA rank (default 16)")
    p.add_argument("--targets", help="all-linear (default), attention, or q_proj,v_proj,...")
    p.add_argument("--lora-dropout", type=float, help="LoRA dropout (default 0)")
    p.add_argument("--precision", choices=get_args(Precision),
                   help="weights/compute dtype (default bf16 on a GPU, fp16 without bf16, fp32 on a CPU)")
    p.add_argument("--pure-bf16", action=argparse.BooleanOptionalAction,
                   help="no fp32 master weights or adapters (default: the stack's choice)")
    p.add_argument("--quant", choices=get_args(Quant), help="base-weight quantization (default none)")
    p.add_argument("--double-quant", action=argparse.BooleanOptionalAction, help="NF4 double quantization (default on)")
    p.add_argument("--quant-saves-inputs", action="store_true",
                   help="older bitsandbytes (0.41): each 4-bit matmul keeps its input for backward")
    p.add_argument("--optimizer", choices=get_args(Optimizer), help="optimizer (default adamw)")
    p.add_argument("--optimizer-foreach", action=argparse.BooleanOptionalAction,
                   help="foreach AdamW: one extra state-sized buffer (default: the stack's kernel)")
    p.add_argument("--batch-size", type=int, help="micro-batch per GPU (default 1)")
    p.add_argument("--seq-len", type=int, help="sequence length in tokens (default 2048)")
    p.add_argument("--grad-accum", type=int, help="gradient accumulation steps (default 1)")
    p.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, help="activation checkpointing")
    p.add_argument("--activation-offloading", action=argparse.BooleanOptionalAction,
                   help="checkpointed layer inputs in CPU memory (default: the stack's; unsloth offloads)")
    p.add_argument("--attention", choices=("sdpa", "eager"), help="attention kernel (default sdpa)")
    p.add_argument("--loss", choices=LOSSES,
                   help="standard fp32 logits, chunked, or fused (no full-vocabulary fp32 buffer); default: the stack's")
    p.add_argument("--gpus", type=int, help="number of GPUs (default 1)")
    p.add_argument("--sharding", choices=get_args(Sharding), help="none (DDP), zero1, zero2, zero3, fsdp")
    p.add_argument("--offload-optimizer", action="store_true", help="optimizer states on CPU")
    p.add_argument("--gpu", help="GPU type from `ftadvisor gpus`, for fit, time and cost")
    p.add_argument("--train-tokens", type=int, help="training tokens per epoch")
    p.add_argument("--epochs", type=float, help="epochs (default 1)")
    p.add_argument("--mfu", type=float, help="model FLOPs utilisation for time and prefill (default 0.4)")
    p.add_argument("--prompt-tokens", type=int, help="serving (--method inference): prompt tokens per request")
    p.add_argument("--output-tokens", type=int, help="serving: generated tokens per request")
    p.add_argument("--concurrency", type=int, help="serving: requests decoded together (default 1)")
    p.add_argument("--mbu", type=float, help="serving: share of the memory bandwidth decoding reaches (default 0.6)")
    p.add_argument("--gpu-catalog", help="a GPU catalog JSON to use instead of the built-in one")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_estimate)

    g = subparsers.add_parser("gpus", help="list the GPU catalog", description="The GPU catalog: memory, "
                              "dense TFLOPS, memory bandwidth, bf16 support and on-demand price with source and date.")
    g.add_argument("--gpu-catalog", help="a GPU catalog JSON to use instead of the built-in one")
    g.add_argument("--json", action="store_true", help="print JSON")
    g.set_defaults(func=run_gpus)


def _use_catalog(args: argparse.Namespace) -> None:
    path = getattr(args, "gpu_catalog", None)
    if path:
        os.environ["FTADVISOR_GPU_CATALOG"] = path


def request_from_args(args: argparse.Namespace):
    from estimator.request import EstimateRequest

    skip = {"func", "command", "json", "gpu_catalog"}
    fields = {_FIELD.get(k, k): v for k, v in vars(args).items() if k not in skip}
    return EstimateRequest(**fields)


def run_estimate(args: argparse.Namespace) -> int:
    from estimator import estimate

    _use_catalog(args)
    req = request_from_args(args)
    result = estimate(req)
    if getattr(args, "json", False):
        print(result.model_dump_json(indent=2))
    else:
        print(render(result))
    return 0


def render(e) -> str:
    """The estimate as a readable text table."""
    lines = [f"{e.model}{' (approximate shape)' if e.approximate else ''}: "
             f"{e.params_total:,} params, {e.params_trainable:,} trainable; stack {e.stack} on {e.device} "
             f"({', '.join(f'{k} {v}' for k, v in e.resolved.items())})", ""]
    width = max(len(k) for k in e.memory_gib)
    for name, gib in e.memory_gib.items():
        if name == "total":
            continue
        lines.append(f"  {name:<{width}}  {gib:9.2f} GiB  {e.components[name]}")
    lines.append(f"  {'total':<{width}}  {e.memory_gib['total']:9.2f} GiB  per GPU, peak at {e.peak_phase} "
                 f"(band {e.band.low_gib:.1f}-{e.band.high_gib:.1f} GiB)")
    if e.cpu_gib:
        lines.append(f"  offloaded to CPU: {e.cpu_gib:.2f} GiB")
    lines += ["", "fits: " + ", ".join(f"{g} {'yes' if ok else 'no'}" for g, ok in e.fits.items())]
    if e.gpu:
        lines.append(f"on {e.gpu}: {'fits' if e.fits_gpu else 'does NOT fit'}")
    if e.time_hours is not None:
        lines.append(f"time: {e.time_hours:,.2f} h, cost: ${e.cost_usd:,.2f}  ({e.time_formula})")
    if e.serving is not None:
        s = e.serving
        lines.append(f"serving on {s.gpu}: prefill {s.prefill_s * 1e3:,.1f} ms, {s.decode_tokens_per_s:,.1f} tokens/s per "
                     f"request ({s.total_tokens_per_s:,.0f} in all, {s.decode_bound}-bound), latency {s.latency_s:,.2f} s, "
                     f"${s.usd_per_1k_queries:,.4f} per 1k queries")
    if e.suggestions:
        lines += ["", "to fit:"] + [f"  {s.change}: {s.total_gib:.1f} GiB{' (fits)' if s.fits else ''}"
                                    for s in e.suggestions]
    lines += ["", "assumptions:"] + [f"  - {a}" for a in e.assumptions]
    return "\n".join(lines)


def run_gpus(args: argparse.Namespace) -> int:
    from estimator import list_gpus

    _use_catalog(args)
    gpus = list_gpus()
    if args.json:
        print(json.dumps([g.model_dump() for g in gpus], indent=2))
        return 0
    header = (f"{'gpu':<10} {'GiB':>7} {'bf16 TFLOPS':>11} {'fp16 TFLOPS':>11} {'GB/s':>6} {'bf16':>4} {'$/h':>6}  "
              "price source (date)")
    print(header)
    for g in gpus:
        bf16 = f"{g.bf16_tflops:g}" if g.bf16_tflops else "-"
        bandwidth = f"{g.memory_bandwidth_gbs:g}" if g.memory_bandwidth_gbs else "-"
        print(f"{g.name:<10} {g.memory_gib:>7.1f} {bf16:>11} {g.fp16_tflops:>11g} {bandwidth:>6} {'yes' if g.bf16 else 'no':>4} "
              f"{g.usd_per_hour:>6.2f}  {g.price_source} ({g.price_date})")
    return 0
