"""Measured peak memory of a run beside the estimator's prediction for what the run really trains
on, and the out-of-memory advice built from that prediction.

The prediction is made at the longest padded batch the run sees: the training rows tokenized as
trl's SFTTrainer/DPOTrainer tokenize them (`sequence_tokens`), truncated at `max_seq_len`, for the
device the run used (fp32 on a CPU: lm/loading.py compute_dtype).

Measured: `torch.cuda.max_memory_reserved()` on a GPU (what the caching allocator held, which
is what decides an OOM), else the process's peak resident set size (`ru_maxrss`, KiB on Linux),
which also holds the Python/torch runtime the estimate (live tensors only) leaves out.
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


def estimate_request(spec: JobSpec, *, device: str = "cuda", seq_len: int | None = None, **extra: Any):
    """The estimator's `EstimateRequest` for the training `spec` describes, on `device` (cuda or
    cpu), at `seq_len` tokens per sequence (default: the `max_seq_len` cap; pass
    `padded_batch_length(...)` for what the data really reaches); `extra` sets what a JobSpec does
    not hold (gpu, train_tokens, epochs). Our backend is trl (stack "trl"); DPO's trainer runs
    chosen and rejected in one forward, so two sequences per example."""
    from estimator import EstimateRequest

    pairs = 2 if spec.method == "dpo" else 1
    return EstimateRequest(
        model=spec.model,
        method=spec.base_method,
        stack="trl",
        device="cpu" if device == "cpu" else "cuda",
        lora_rank=spec.lora_rank,
        lora_targets=spec.lora_targets,
        lora_dropout=spec.lora_dropout,
        quant=spec.quant,
        double_quant=spec.double_quant,
        batch_size=spec.batch_size * pairs,
        gradient_accumulation=spec.grad_accum,
        seq_len=seq_len or spec.max_seq_len,
        gradient_checkpointing=spec.gradient_checkpointing,
        gpus=spec.gpus,
        sharding=spec.sharding,
        **extra,
    )


def _tokens(tokenizer: Any, part: str | list, **template: Any) -> int:
    """Token count of a text (plain tokenizer call) or of messages (the chat template), as trl's
    `data_utils._tokenize` dispatches them."""
    if isinstance(part, list):
        return len(tokenizer.apply_chat_template(part, tokenize=True, return_dict=True, **template)["input_ids"])
    return len(tokenizer(text=part)["input_ids"])


def sequence_tokens(tokenizer: Any, row: dict, max_len: int) -> list[int]:
    """The lengths trl trains on for one row (sft_trainer.py `tokenize_fn`, then `truncate` and the
    filter that drops rows left with no completion token): messages through the chat template;
    prompt + completion concatenated (text rows get the eos appended first, `add_eos`); DPO's
    prompt + chosen and prompt + rejected."""
    if "messages" in row:
        return [min(max_len, _tokens(tokenizer, row["messages"]))]
    answers = [row[k] for k in ("completion", "chosen", "rejected") if k in row]
    if isinstance(row["prompt"], list):
        prompt = _tokens(tokenizer, row["prompt"], add_generation_prompt=True)
        lengths = [_tokens(tokenizer, row["prompt"] + answer) for answer in answers]
    else:
        eos = tokenizer.eos_token or ""
        prompt = _tokens(tokenizer, row["prompt"])
        lengths = [_tokens(tokenizer, row["prompt"] + (a if a.endswith(eos) else a + eos)) for a in answers]
    return [] if prompt >= max_len else [min(max_len, n) for n in lengths]


def padded_batch_length(spec: JobSpec, tokenizer: Any, rows: list[dict]) -> int:
    """Tokens per sequence of the longest padded batch the run will see: batches are padded to their
    longest row (trl's DataCollatorForLanguageModeling), so the longest row sets it, cut at
    `max_seq_len`; packed rows fill `max_seq_len` (or hold all the tokens when there are fewer)."""
    cap = None if spec.packing else spec.max_seq_len  # packing chunks sequences instead of truncating them
    lengths = [n for row in rows for n in sequence_tokens(tokenizer, row, cap or 2**62)]
    if not lengths:
        return spec.max_seq_len
    return min(spec.max_seq_len, sum(lengths) if spec.packing else max(lengths))


def predicted(spec: JobSpec, *, device: str = "cuda", seq_len: int | None = None) -> tuple[Any | None, str | None]:
    """(the estimator's Estimate for this spec, None) or (None, why it could not estimate)."""
    try:
        from estimator import estimate
    except ImportError as exc:
        return None, f"the estimator is not available ({exc})"
    try:
        return estimate(estimate_request(spec, device=device, seq_len=seq_len)), None
    except Exception as exc:  # the estimator rejects or cannot read this model: say why, don't fail the run
        return None, f"{type(exc).__name__}: {exc}"


def _data_length(
    spec: JobSpec, run_dir: Path, tokenizer: Any, rows: list[dict] | None
) -> tuple[int | None, str | None]:
    """The padded batch length from the run's own training rows (read again when not given)."""
    try:
        if tokenizer is None:
            from lm.loading import load_tokenizer

            tokenizer = load_tokenizer(spec.model)
        if rows is None:
            from tuning.recipes.common import trl_rows

            rows = trl_rows(spec, tokenizer, run_dir)[0]
        return padded_batch_length(spec, tokenizer, rows), None
    except Exception as exc:  # noqa: BLE001 - fall back to the cap, and say why
        return None, f"{type(exc).__name__}: {exc}"


def record(run_dir: Path, spec: JobSpec, *, tokenizer: Any = None, rows: list[dict] | None = None) -> dict[str, Any]:
    """Write memory.json: measured peak vs the estimate at the run's real batch length, and their
    ratio. `tokenizer` and `rows` (the training rows in trl's format) save reading the data again."""
    from tuning.recipes.common import write_json

    peak = measured_peak()
    device = "cpu" if peak["device"] == "cpu" else "cuda"
    seq_len, length_error = _data_length(spec, run_dir, tokenizer, rows)
    est, why = predicted(spec, device=device, seq_len=seq_len)
    total = est.memory_gib["total"] if est is not None else None
    data = {
        "measured_peak_gib": round(peak["peak_gib"], 4),
        "measured": peak["what"],
        "device": peak["device"],
        "estimated_total_gib": round(total, 4) if total is not None else None,
        "estimated_seq_len": seq_len or spec.max_seq_len,
        "estimated_seq_len_from": "the longest tokenized training row" if seq_len else f"max_seq_len ({length_error})",
        "estimate": est.model_dump(mode="json") if hasattr(est, "model_dump") else None,
        "estimate_error": why,
        "measured_over_estimated": round(peak["peak_gib"] / total, 3) if total else None,
        "note": "on CPU the peak RSS also holds the Python/torch runtime (several hundred MiB), which the estimate "
                "(live tensors) leaves out" if device == "cpu" else None,
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
    est, _ = predicted(spec, device="cpu" if where == "system RAM" else "cuda")
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
    head = "out of memory"
    if total is not None and have is not None:
        relation = (
            ">" if total > have else "(the estimate fits, but other processes or longer batches use memory too) vs"
        )
        head += f": estimated {total:.1f} GiB {relation} {have:.1f} GiB ({where})"
    elif have is not None:
        head += f" on {where} ({have:.1f} GiB)"
    return head + (
        ": try " + ", or ".join(tries) if tries else ": use a bigger GPU or more GPUs (--gpus N --sharding zero3)"
    )
