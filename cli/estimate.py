"""`ftadvisor estimate` (memory, fit, time, cost) and `ftadvisor gpus` (the GPU catalog).

One flag per `estimator.EstimateRequest` field (`common.flags.ESTIMATE`), its type, choices,
bounds, help and default taken from the field (`cli.fields`); a flag not given leaves the field's
default, so the defaults live in one place. Bad values exit 2 with one line naming the field.
"""
from __future__ import annotations

import argparse
import json
import os

from cli.fields import add_field_flags, given_values
from common import flags


def register(subparsers: argparse._SubParsersAction) -> None:
    from estimator.request import EstimateRequest

    parser = subparsers.add_parser(
        "estimate", help="per-GPU memory breakdown, which GPUs fit, time and cost",
        description="Estimate peak GPU memory per component (GiB), which catalog GPUs fit, and "
        "training time and cost when --gpu and --train-tokens are given.",
    )
    add_field_flags(parser, EstimateRequest, flags.ESTIMATE, required=("model",))
    parser.add_argument("--gpu-catalog", help="a GPU catalog JSON to use instead of the built-in one")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run_estimate)

    gpus = subparsers.add_parser("gpus", help="list the GPU catalog", description="The GPU catalog: memory, "
                                 "dense TFLOPS, memory bandwidth, bf16 support and on-demand price with source and "
                                 "date.")
    gpus.add_argument("--gpu-catalog", help="a GPU catalog JSON to use instead of the built-in one")
    gpus.add_argument("--json", action="store_true", help="print JSON")
    gpus.set_defaults(func=run_gpus)


def _use_catalog(args: argparse.Namespace) -> None:
    path = getattr(args, "gpu_catalog", None)
    if path:
        os.environ["FTADVISOR_GPU_CATALOG"] = path


def request_from_args(args: argparse.Namespace):
    from estimator.request import EstimateRequest

    return EstimateRequest(**given_values(args, EstimateRequest, flags.ESTIMATE))


def run_estimate(args: argparse.Namespace) -> int:
    from estimator import estimate

    _use_catalog(args)
    result = estimate(request_from_args(args))
    print(result.model_dump_json(indent=2) if args.json else render(result))
    return 0


def render(result) -> str:
    """The estimate as a readable text table."""
    lines = [f"{result.model}{' (approximate shape)' if result.approximate else ''}: "
             f"{result.params_total:,} params, {result.params_trainable:,} trainable; stack {result.stack} on "
             f"{result.device} ({', '.join(f'{name} {value}' for name, value in result.resolved.items())})", ""]
    width = max(len(name) for name in result.memory_gib)
    for name, gib in result.memory_gib.items():
        if name == "total":
            continue
        lines.append(f"  {name:<{width}}  {gib:9.2f} GiB  {result.components[name]}")
    lines.append(f"  {'total':<{width}}  {result.memory_gib['total']:9.2f} GiB  per GPU, peak at {result.peak_phase} "
                 f"(band {result.band.low_gib:.1f}-{result.band.high_gib:.1f} GiB)")
    if result.cpu_gib:
        lines.append(f"  offloaded to CPU: {result.cpu_gib:.2f} GiB")
    lines += ["", "fits: " + ", ".join(f"{gpu} {'yes' if ok else 'no'}" for gpu, ok in result.fits.items())]
    if result.gpu:
        lines.append(f"on {result.gpu}: {'fits' if result.fits_gpu else 'does NOT fit'}")
    if result.time_hours is not None:
        lines.append(f"time: {result.time_hours:,.2f} h, cost: ${result.cost_usd:,.2f}  ({result.time_formula})")
    if result.serving is not None:
        serving = result.serving
        lines.append(f"serving on {serving.gpu}: prefill {serving.prefill_s * 1e3:,.1f} ms, "
                     f"{serving.decode_tokens_per_s:,.1f} tokens/s per request ({serving.total_tokens_per_s:,.0f} in "
                     f"all, {serving.decode_bound}-bound), latency {serving.latency_s:,.2f} s, "
                     f"${serving.usd_per_1k_queries:,.4f} per 1k queries")
    if result.suggestions:
        lines += ["", "to fit:"] + [f"  {change.change}: {change.total_gib:.1f} GiB{' (fits)' if change.fits else ''}"
                                    for change in result.suggestions]
    lines += ["", "assumptions:"] + [f"  - {assumption}" for assumption in result.assumptions]
    return "\n".join(lines)


def run_gpus(args: argparse.Namespace) -> int:
    from estimator import list_gpus

    _use_catalog(args)
    gpus = list_gpus()
    if args.json:
        print(json.dumps([gpu.model_dump() for gpu in gpus], indent=2))
        return 0
    header = (f"{'gpu':<10} {'GiB':>7} {'bf16 TFLOPS':>11} {'fp16 TFLOPS':>11} {'GB/s':>6} {'bf16':>4} {'$/h':>6}  "
              "price source (date)")
    print(header)
    for gpu in gpus:
        bf16 = f"{gpu.bf16_tflops:g}" if gpu.bf16_tflops else "-"
        bandwidth = f"{gpu.memory_bandwidth_gbs:g}" if gpu.memory_bandwidth_gbs else "-"
        print(f"{gpu.name:<10} {gpu.memory_gib:>7.1f} {bf16:>11} {gpu.fp16_tflops:>11g} {bandwidth:>6} "
              f"{'yes' if gpu.bf16 else 'no':>4} {gpu.usd_per_hour:>6.2f}  {gpu.price_source} ({gpu.price_date})")
    return 0
