"""LoRA vs QLoRA vs full fine-tuning, decided by what the estimator says fits the user's GPUs
and budget. The only module of the advisor that talks to the estimator.

Sizing setup (stated in every plan's assumptions): micro-batch 1 (2 sequences for DPO: chosen
and rejected) with gradient checkpointing — the leanest ordinary configuration, so "does not
fit" means it does not fit at all; LoRA rank 16 on all linear layers; 2 epochs (seed 002:
1-3); sequence length = the typical example length rounded up to 256 tokens.
"""
from __future__ import annotations

import math
import time
from functools import lru_cache

from advisor.answers import Answers
from advisor.recommendation import FineTunePlan, GpuRow, MethodFit, Reason
from advisor.rules.data import training_examples
from common.vocabulary import DEFAULT_EPOCHS as EPOCHS
from common.vocabulary import DEFAULT_LORA_RANK as LORA_RANK
from common.vocabulary import DEFAULT_LR

GRAD_ACCUM = 8  # micro-batch 1 x 8: an effective batch of 8 sequences
LORA_TARGETS = "all-linear"
NOT_FIT_PENALTY = 3.0
OVER_BUDGET_PENALTY = 3.0
SMALLER_SIZES = ("70b", "32b", "14b", "8b", "3b", "1b")
_ESTIMATOR_SOURCE = "estimator"


def _est():
    import estimator  # pure arithmetic, no torch

    return estimator


def canonical_gpu(name: str) -> str:
    """The catalog name of a loosely written GPU (`a100-80gb` -> `A100 80GB`); unknown -> a
    ValueError listing close names."""
    return _gpu(name).name


@lru_cache(maxsize=256)
def _gpu(name: str):
    return _est().load_gpu(name)


@lru_cache(maxsize=256)
def check_model(name: str):
    """The estimator's ModelSpec for a catalog name or size (`8b`); unknown -> ValueError."""
    return _est().load_model_spec(name)


def seq_len_for(a: Answers) -> int:
    return max(256, math.ceil(a.example_tokens / 256) * 256)


def train_tokens_for(a: Answers, recipe: str) -> int:
    """Tokens seen per epoch: examples x typical length (a DPO pair is two sequences)."""
    per_example = a.example_tokens * (2 if recipe == "dpo" else 1)
    return training_examples(a) * per_example


def _request(a: Answers, method: str, recipe: str, gpu: str | None, gpus: int,
             sharding: str | None = None):
    tokens = train_tokens_for(a, recipe) if method != "inference" else 0
    if sharding is None:
        sharding = "fsdp" if method == "full" and gpus > 1 else "none"
    return _est().EstimateRequest(
        model=a.model,
        method=method,
        lora_rank=LORA_RANK,
        quant="nf4" if method == "qlora" else "none",
        batch_size=2 if recipe == "dpo" and method != "inference" else 1,
        gradient_accumulation=GRAD_ACCUM if method != "inference" else 1,
        seq_len=seq_len_for(a),
        gradient_checkpointing=method != "inference",
        gpus=gpus,
        sharding=sharding,
        # T4 and V100 have no bf16: train in fp16 there.
        precision="bf16" if gpu is None or _gpu(gpu).bf16 else "fp16",
        gpu=gpu,
        train_tokens=tokens or None,
        epochs=EPOCHS,
    )


def _memory(est) -> dict[str, float]:
    return {k: round(float(v), 3) for k, v in est.memory_gib.items()}


def _gpu_memory(name: str | None) -> float | None:
    return None if name is None else _gpu(name).memory_gib


_CACHE: dict[tuple, object] = {}  # what-if re-runs share most sizing inputs
_CACHE_MAX = 2048


def _cached(key: tuple, compute):
    """Cached MethodFit (frozen) or tuple of GpuRow (frozen): safe to share."""
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = compute()
    return _CACHE[key]


_catalog_checked = [0.0, ()]  # [monotonic time, (path, mtime)]


def _catalog_version() -> tuple:
    """The GPU catalog file and its mtime (a user may edit it), re-read at most once a second."""
    now = time.monotonic()
    if now - _catalog_checked[0] > 1.0:
        path = _est().gpus.catalog_path()
        _catalog_checked[:] = [now, (str(path), path.stat().st_mtime if path.exists() else 0.0)]
    return _catalog_checked[1]


def _job_key(a: Answers, method: str, recipe: str) -> tuple:
    """Everything the estimator sees of the answers (and the catalog's version)."""
    return (a.model, a.example_tokens, training_examples(a), method, recipe, *_catalog_version())


def _fit(a: Answers, method: str, recipe: str) -> MethodFit:
    """Size one method on the user's GPUs, or on the cheapest catalog GPU that fits."""
    key = ("fit", *_job_key(a, method, recipe), a.gpu, a.gpu_count, a.budget_usd)
    return _cached(key, lambda: _fit_uncached(a, method, recipe))


def _fit_uncached(a: Answers, method: str, recipe: str) -> MethodFit:
    est_mod = _est()
    if a.gpu is not None:
        req = _request(a, method, recipe, a.gpu, a.gpu_count)
        est = est_mod.estimate(req)
        fits = bool(est.fits_gpu)
        cost = est.cost_usd
        return MethodFit(
            method=method, gpu=a.gpu, gpus=a.gpu_count, rented=False,
            gpu_memory_gib=_gpu_memory(a.gpu), memory_gib=_memory(est),
            total_gib=round(est.memory_gib['total'], 2), fits=fits,
            time_hours=est.time_hours, cost_usd=cost,
            over_budget=_over_budget(a, cost),
        )
    row = next((r for r in _table(a, method, recipe) if r.gpus is not None), None)
    gpu, gpus = (row.gpu, row.gpus) if row else (None, 1)
    est = est_mod.estimate(_request(a, method, recipe, gpu, gpus, row.sharding if row else None))
    return MethodFit(
        method=method, gpu=gpu, gpus=gpus, rented=True, gpu_memory_gib=_gpu_memory(gpu),
        memory_gib=_memory(est), total_gib=round(est.memory_gib['total'], 2), fits=row is not None,
        time_hours=est.time_hours, cost_usd=est.cost_usd, over_budget=_over_budget(a, est.cost_usd),
    )


def _over_budget(a: Answers, cost: float | None) -> bool:
    return a.budget_usd is not None and cost is not None and cost > a.budget_usd


def _table(a: Answers, method: str, recipe: str) -> tuple[GpuRow, ...]:
    key = ("table", *_job_key(a, method, recipe))
    return _cached(key, lambda: _table_uncached(a, method, recipe))


def _table_uncached(a: Answers, method: str, recipe: str) -> tuple[GpuRow, ...]:
    rows = _est().fit_table(_request(a, method, recipe, None, 1))
    return tuple(
        GpuRow(
            gpu=r.gpu, gpus=r.min_gpus, sharding=r.sharding, gpu_memory_gib=r.memory_gib,
            total_gib=r.total_gib, fits=r.min_gpus is not None, time_hours=r.time_hours,
            cost_usd=r.cost_usd, note=r.note,
        )
        for r in rows
    )


def size_methods(a: Answers, recipe: str) -> dict[str, MethodFit]:
    """Every fine-tuning method sized the same way, keyed by approach name."""
    return {
        "lora": _fit(a, "lora", recipe),
        "qlora": _fit(a, "qlora", recipe),
        "full_finetune": _fit(a, "full", recipe),
    }


def sizing_reasons(a: Answers, fits: dict[str, MethodFit]) -> list[Reason]:
    """Score changes from the estimator: a method that does not fit the GPUs, or costs more
    than the budget, loses points, so LoRA vs QLoRA vs full is decided here. When nothing fits,
    the one closest to fitting loses least."""
    reasons = []
    for approach, f in fits.items():
        where = _where(f)
        if not f.fits:
            text = (f"{method_name(f.method)} needs {f.total_gib:.1f} GiB per GPU: it does not "
                    f"fit {where}.")
            delta = -not_fit_penalty(f)
        elif f.over_budget:
            text = (f"{method_name(f.method)} would cost about ${f.cost_usd:,.0f} on {where}, "
                    f"over the ${a.budget_usd:,.0f} budget.")
            delta = -OVER_BUDGET_PENALTY
        else:
            continue
        reasons.append(Reason(
            rule="estimator_fit", text=text, answers=["model", "gpu", "gpu_count", "budget_usd"],
            source=_ESTIMATOR_SOURCE,
            claim="per-GPU memory breakdown and cost from `estimator.estimate`",
            effect={approach: round(delta, 2)},
        ))
    return reasons


def not_fit_penalty(f: MethodFit) -> float:
    """3 points, plus 2 per doubling of memory beyond the GPU's: 70B full fine-tuning on a 24 GB
    card (50x) must lose to 70B QLoRA on it (1.8x). Nothing fits on any GPU count: 15."""
    if f.gpu_memory_gib is None or f.rented:
        return 15.0
    return NOT_FIT_PENALTY + 2.0 * math.log2(max(f.total_gib / f.gpu_memory_gib, 1.0))


def method_name(method: str) -> str:
    return {"lora": "LoRA", "qlora": "QLoRA", "full": "Full fine-tuning", "inference": "Serving"}[method]


def _where(f: MethodFit) -> str:
    if f.gpu is None:
        return "any catalog GPU"
    mem = f" ({f.gpu_memory_gib:.0f} GiB each)" if f.gpu_memory_gib else ""
    return f"{f.gpus} x {f.gpu}{mem}" if not f.rented else f"{f.gpus} x {f.gpu} (cheapest rental)"


def finetune_plan(a: Answers, approach: str, recipe: str, fits: dict[str, MethodFit]) -> FineTunePlan:
    """The chosen method with its figures, the GPU table and the assumptions."""
    fit = fits[approach]
    method = fit.method
    req = _request(a, method, recipe, fit.gpu, fit.gpus)
    est = _est().estimate(req)
    lr = DEFAULT_LR[method] / (2 if a.keep_general_skills and method != "full" else 1)
    smaller = None if fit.fits or a.gpu is None else _smaller_model(a, recipe)
    return FineTunePlan(
        method=method, recipe=recipe, model=a.model,
        params_total=est.params_total, params_trainable=est.params_trainable,
        lora_rank=None if method == "full" else LORA_RANK,
        lora_targets=None if method == "full" else LORA_TARGETS,
        quant=req.quant, precision=req.precision, batch_size=req.batch_size,
        grad_accum=req.gradient_accumulation, sharding=req.sharding, seq_len=req.seq_len,
        gradient_checkpointing=True, epochs=EPOCHS, learning_rate=lr,
        train_tokens=train_tokens_for(a, recipe), fit=fit, alternatives=list(fits.values()),
        gpu_table=list(_table(a, method, recipe)), smaller_model=smaller,
        assumptions=assumptions(a, recipe) + [str(x) for x in (getattr(est, "assumptions", None) or [])],
    )


def _smaller_model(a: Answers, recipe: str) -> str | None:
    """The largest bare size that fits the user's GPUs with QLoRA, when the asked model does not."""
    total = check_model(a.model).param_count()
    for size in SMALLER_SIZES:
        if check_model(size).param_count() >= total * 0.9:
            continue
        if _fit(a.model_copy(update={"model": size}), "qlora", recipe).fits:
            return size
    return None


def serving_fit(a: Answers) -> MethodFit:
    """Memory to serve the model for inference (bf16 weights + KV cache)."""
    return _fit(a, "inference", "sft")


def context_warnings(a: Answers) -> list[str]:
    """Examples longer than the model's context window cannot be trained or served as they are."""
    limit = check_model(a.model).max_position_embeddings
    if a.example_tokens <= limit:
        return []
    return [f"Typical examples of {a.example_tokens:,} tokens exceed {a.model}'s context of "
            f"{limit:,} tokens: shorten or chunk them, or choose a longer-context model."]


def serving_assumptions(a: Answers) -> list[str]:
    return [
        f"Serving sized for one sequence of {seq_len_for(a)} tokens with 16-bit weights and its "
        "KV cache; more concurrent requests need more KV cache.",
    ]


def assumptions(a: Answers, recipe: str) -> list[str]:
    pairs = " (a DPO pair counts as two sequences)" if recipe == "dpo" else ""
    return [
        f"Sized at micro-batch {2 if recipe == 'dpo' else 1}{pairs} x {GRAD_ACCUM} gradient "
        "accumulation steps with gradient checkpointing: the leanest ordinary setup.",
        f"LoRA rank {LORA_RANK} on all linear layers; QLoRA = NF4 with double quantization.",
        f"Sequence length {seq_len_for(a)} (typical example of {a.example_tokens} tokens, "
        f"rounded up to 256); {EPOCHS} epochs over "
        f"{training_examples(a):,} examples = {train_tokens_for(a, recipe) * EPOCHS:,} tokens.",
        "Cost at the GPU catalog's on-demand price per hour, even for GPUs you own.",
    ]
