"""Measured peak memory of a run beside the estimator's prediction for the same spec, and the
out-of-memory advice built from that prediction.

Measured: `torch.cuda.max_memory_reserved()` on a GPU (what the caching allocator held, which
is what decides an OOM), else the process's peak resident set size (`ru_maxrss`, KiB on Linux).
"""
from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import Any

from tuning.spec import JobSpec

GIB = 1024**3


def measured_peak() -> dict[str, Any]:
    """{'peak_gib', 'what', 'device'} for this process."""
    import torch

    if torch.cuda.is_available() and torch.cuda.max_memory_reserved() > 0:
        return {"peak_gib": torch.cuda.max_memory_reserved() / GIB, "what": "torch.cuda.max_memory_reserved",
                "device": torch.cuda.get_device_name()}
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, KiB on Linux
    rss = rss_kib if sys.platform == "darwin" else rss_kib * 1024
    return {"peak_gib": rss / GIB, "what": "process peak RSS (ru_maxrss)", "device": "cpu"}


def estimate_request(spec: JobSpec, *, device: str = "cuda", **extra: Any):
    """The estimator's `EstimateRequest` for the training `spec` describes (fp32 weights on a CPU,
    bf16 on a GPU); `extra` sets what a JobSpec does not hold (gpu, train_tokens, epochs)."""
    from estimator import EstimateRequest

    return EstimateRequest(
        model=spec.model,
        method=spec.base_method,
        lora_rank=spec.lora_rank,
        lora_targets=spec.lora_targets,
        lora_dropout=spec.lora_dropout,
        precision="fp32" if device == "cpu" else "bf16",
        quant=spec.quant,
        double_quant=spec.double_quant,
        batch_size=spec.batch_size,
        gradient_accumulation=spec.grad_accum,
        seq_len=spec.max_seq_len,
        gradient_checkpointing=spec.gradient_checkpointing,
        gpus=spec.gpus,
        sharding=spec.sharding,
        **extra,
    )


def predicted(spec: JobSpec, *, device: str = "cuda") -> tuple[Any | None, str | None]:
    """(the estimator's Estimate for this spec, None) or (None, why it could not estimate)."""
    try:
        from estimator import estimate
    except ImportError as exc:
        return None, f"the estimator is not available ({exc})"
    try:
        return estimate(estimate_request(spec, device=device)), None
    except Exception as exc:  # the estimator rejects or cannot read this model: say why, don't fail the run
        return None, f"{type(exc).__name__}: {exc}"


def record(run_dir: Path, spec: JobSpec) -> dict[str, Any]:
    """Write memory.json: measured peak vs estimated total (per GPU), and their ratio."""
    from tuning.recipes.common import write_json

    peak = measured_peak()
    est, why = predicted(spec, device=peak["device"] if peak["device"] == "cpu" else "cuda")
    total = est.memory_gib["total"] if est is not None else None
    data = {
        "measured_peak_gib": round(peak["peak_gib"], 4),
        "measured": peak["what"],
        "device": peak["device"],
        "estimated_total_gib": round(total, 4) if total is not None else None,
        "estimate": est.model_dump(mode="json") if hasattr(est, "model_dump") else None,
        "estimate_error": why,
        "measured_over_estimated": round(peak["peak_gib"] / total, 3) if total else None,
        "note": "on CPU the peak RSS includes the Python/torch runtime and the estimate is per GPU: "
                "compare them only on a GPU" if peak["device"] == "cpu" else None,
    }
    write_json(run_dir / "memory.json", data)
    return data


def available_gib() -> tuple[float, str]:
    import psutil
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_properties(0).total_memory / GIB, torch.cuda.get_device_name()
    return psutil.virtual_memory().total / GIB, "system RAM"


def oom_advice(spec: JobSpec) -> str:
    """What to change after an out-of-memory error, with the estimator's figure when it has one:
    e.g. "estimated 27.4 GiB > 24.0 GiB (NVIDIA L4): try --method qlora, or --batch-size 1 with
    --gradient-checkpointing"."""
    try:
        have, where = available_gib()
    except Exception:  # noqa: BLE001 - advice must never raise
        have, where = None, "this device"
    est, _ = predicted(spec)
    total = est.memory_gib["total"] if est is not None else None
    tries = []
    if spec.base_method == "full":
        tries.append("--method lora (or qlora)")
    elif spec.base_method == "lora":
        tries.append("--method qlora")
    smaller = []
    if spec.batch_size > 1:
        smaller.append(f"--batch-size 1 --grad-accum {spec.batch_size * spec.grad_accum}")  # same effective batch
    if not spec.gradient_checkpointing:
        smaller.append("--gradient-checkpointing")
    if spec.max_seq_len > 512:
        smaller.append(f"--seq-len {spec.max_seq_len // 2}")
    if smaller:
        tries.append(" with ".join(smaller[:2]) + "".join(f" and {s}" for s in smaller[2:]))
    tries += [s for s in getattr(est, "suggestions", None) or [] if isinstance(s, str)][:2]
    head = "out of memory"
    if total is not None and have is not None:
        relation = ">" if total > have else "(the estimate fits, but other processes or longer batches use memory too) vs"
        head += f": estimated {total:.1f} GiB {relation} {have:.1f} GiB ({where})"
    elif have is not None:
        head += f" on {where} ({have:.1f} GiB)"
    return head + (": try " + ", or ".join(tries) if tries else ": use a bigger GPU or more GPUs (--gpus N --sharding zero3)")
