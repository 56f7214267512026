"""LoRA vs QLoRA vs full fine-tuning, decided by what the estimator says fits the user's GPUs
and what the budget can pay for; and the memory to serve the model. With `advisor.catalog`, the
only module of the advisor that talks to the estimator.

Sizing setup (stated in every plan's assumptions): micro-batch 1 (2 sequences for DPO: chosen
and rejected) with gradient checkpointing, the leanest ordinary configuration, so "does not fit"
means it does not fit at all; LoRA rank 16 on all linear layers; 2 epochs (1-3 limit forgetting);
sequence length = the typical example rounded up to 256 tokens, capped at the model's context.

Several GPUs: every method is sized as DDP copies first (fastest, no sharding traffic) and, when
a copy does not fit one GPU, sharded with FSDP full shard: LoRA and QLoRA shard the frozen base
like full fine-tuning shards everything (PyTorch FSDP, Zhao et al. 2023; FSDP + QLoRA trains 70B
on two 24 GB GPUs, Answer.AI 2024). Serving splits the weights over the GPUs the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from advisor.answers import Answers
from advisor.catalog import context_window, gpu_catalog_version, load_gpu, smaller_models
from advisor.distill import distillation
from advisor.recommendation import FineTunePlan, GpuRow, MethodFit
from advisor.training_data import data_kind, training_count
from common.vocabulary import DEFAULT_EPOCHS as EPOCHS
from common.vocabulary import DEFAULT_LORA_RANK as LORA_RANK
from common.vocabulary import DEFAULT_LORA_TARGETS as LORA_TARGETS
from common.vocabulary import DEFAULT_LR

GRAD_ACCUM = 8  # micro-batch 1 x 8: an effective batch of 8 sequences
OWNED_SHARDINGS = ("none", "fsdp")  # on several of the user's GPUs: DDP if a copy fits, else FSDP
SERVING_SHARDING = "zero3"  # serving over several GPUs: the estimator splits weights like ZeRO-3


def _est():
    import estimator  # pure arithmetic, no torch

    return estimator


@dataclass(frozen=True)
class Job:
    """What the estimator is asked about one training (or serving) job: the model, the data of
    the stage and the hardware. Frozen, so it keys the sizing cache."""

    model: str
    example_tokens: int
    examples: int  # what the stage trains on (examples, pairs or labels)
    kind: str  # examples | pairs | labels
    gpu: str | None
    gpu_count: int
    stack: str = "trl"  # common.vocabulary.Stack: decides dtypes and the loss buffer


def job_for(a: Answers, recipe: str) -> Job:
    """The job the answers describe: the student model on the labels when distilling."""
    plan = distillation(a)
    return Job(model=plan.student if plan else a.model, example_tokens=a.example_tokens,
               examples=training_count(a, recipe), kind=data_kind(a, recipe), gpu=a.gpu,
               gpu_count=a.gpu_count, stack=a.stack)


def dpo_job(a: Answers) -> Job:
    """The DPO stage after SFT: the same model and GPUs, trained on the preference pairs."""
    return replace(job_for(a, "sft"), examples=a.preference_pairs, kind="pairs")


def serving_job(a: Answers) -> Job:
    """The model that will be served: the student when distilling."""
    return replace(job_for(a, "sft"), examples=0)


def seq_len_for(j: Job | Answers) -> int:
    """The typical example rounded up to 256 tokens, never beyond the model's context window."""
    rounded = max(256, math.ceil(j.example_tokens / 256) * 256)
    return min(rounded, context_window(j.model))


def train_tokens_for(j: Job, recipe: str) -> int:
    """Tokens seen per epoch: examples x typical length (a DPO pair is two sequences). Examples
    longer than the context are chunked, so every token is still trained on."""
    return j.examples * j.example_tokens * (2 if recipe == "dpo" else 1)


def _request(j: Job, method: str, recipe: str, gpu: str | None, gpus: int, sharding: str,
             quant: str | None = None):
    training = method != "inference"
    tokens = train_tokens_for(j, recipe) if training else 0
    return _est().EstimateRequest(
        model=j.model, method=method, lora_rank=LORA_RANK,
        quant=quant or ("nf4" if method == "qlora" else "none"),
        batch_size=2 if recipe == "dpo" and training else 1,
        gradient_accumulation=GRAD_ACCUM if training else 1,
        seq_len=seq_len_for(j), gradient_checkpointing=training,
        gpus=gpus, sharding=sharding if gpus > 1 else "none",
        # T4 and V100 have no bf16: train in fp16 there.
        precision="bf16" if gpu is None or load_gpu(gpu).bf16 else "fp16",
        gpu=gpu, train_tokens=tokens or None, epochs=EPOCHS, stack=j.stack,
    )


_CACHE: dict[tuple, object] = {}  # what-if re-runs share most sizing inputs
_CACHE_MAX = 4096


def _cached(key: tuple, compute):
    """Cached MethodFit (frozen) or tuple of GpuRow (frozen): safe to share."""
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = compute()
    return _CACHE[key]


def _method_fit(est, req, rented: bool) -> MethodFit:
    return MethodFit(
        method=req.method, gpu=req.gpu, gpus=req.gpus, rented=rented,
        gpu_memory_gib=None if req.gpu is None else load_gpu(req.gpu).memory_gib,
        memory_gib={k: round(float(v), 3) for k, v in est.memory_gib.items()},
        total_gib=round(est.memory_gib["total"], 2), fits=bool(est.fits_gpu) if req.gpu else False,
        time_hours=est.time_hours, cost_usd=est.cost_usd, sharding=req.sharding, quant=req.quant, seq_len=req.seq_len,
    )


def fit(j: Job, method: str, recipe: str) -> MethodFit:
    """One method sized on the user's GPUs (DDP copies, else sharded), or, with no GPU named,
    on the cheapest catalog GPUs that fit."""
    return _cached(("fit", j, method, recipe, gpu_catalog_version()), lambda: _fit_uncached(j, method, recipe))


def _fit_uncached(j: Job, method: str, recipe: str) -> MethodFit:
    est_mod = _est()
    if j.gpu is not None:
        several = OWNED_SHARDINGS if method != "inference" else ("none", SERVING_SHARDING)
        for sharding in several if j.gpu_count > 1 else ("none",):  # the first that fits, else the leanest
            req = _request(j, method, recipe, j.gpu, j.gpu_count, sharding)
            est = est_mod.estimate(req)
            if est.fits_gpu:
                break
        return _method_fit(est, req, rented=False)
    row = next((r for r in table(j, method, recipe) if r.gpus is not None), None)
    req = _request(j, method, recipe, row.gpu if row else None, row.gpus if row else 1,
                   row.sharding if row else "none")
    out = _method_fit(est_mod.estimate(req), req, rented=True)
    return out.model_copy(update={"fits": row is not None})


def table(j: Job, method: str, recipe: str) -> tuple[GpuRow, ...]:
    """Every catalog GPU: the fewest that fit, with time and cost there; cheapest first."""
    key = ("table", j.model, j.example_tokens, j.examples, method, recipe, gpu_catalog_version())
    return _cached(key, lambda: _table_uncached(j, method, recipe))


def _table_uncached(j: Job, method: str, recipe: str) -> tuple[GpuRow, ...]:
    rows = _est().fit_table(_request(j, method, recipe, None, 1, "none"))
    return tuple(
        GpuRow(
            gpu=r.gpu, gpus=r.min_gpus, sharding=r.sharding, gpu_memory_gib=r.memory_gib,
            total_gib=r.total_gib, fits=r.min_gpus is not None, time_hours=r.time_hours,
            cost_usd=r.cost_usd, note=r.note,
        )
        for r in rows
    )


def unsharded_gib(j: Job, f: MethodFit, recipe: str) -> float:
    """Per-GPU memory of the same job as one full copy per GPU (DDP), to show what sharding saves."""
    req = _request(j, f.method, recipe, f.gpu, f.gpus, "none")
    return round(_est().estimate(req).memory_gib["total"], 1)


def size_methods(j: Job, recipe: str) -> dict[str, MethodFit]:
    """Every fine-tuning method sized the same way, keyed by approach name."""
    return {"lora": fit(j, "lora", recipe), "qlora": fit(j, "qlora", recipe),
            "full_finetune": fit(j, "full", recipe)}


def dpo_stages(j: Job) -> dict[str, MethodFit]:
    """The DPO stage after SFT, per approach, sized on the preference pairs (full fine-tuning's
    DPO stage trains a LoRA adapter on the merged model, as `ftadvisor tune --method dpo` does)."""
    return {"lora": fit(j, "lora", "dpo"), "qlora": fit(j, "qlora", "dpo"),
            "full_finetune": fit(j, "lora", "dpo")}


def plan_cost(f: MethodFit, stage: MethodFit | None) -> float | None:
    """Training cost of the plan: the SFT job plus its DPO stage."""
    if f.cost_usd is None:
        return None
    return f.cost_usd + ((stage.cost_usd or 0.0) if stage is not None else 0.0)


def priced(f: MethodFit, stage: MethodFit | None, budget_usd: float | None) -> MethodFit:
    """`f` marked over budget when the plan (with its DPO stage) costs more than the budget; the
    budget is not part of the sizing cache, so what-ifs on the budget re-use the estimates."""
    cost = plan_cost(f, stage)
    over = budget_usd is not None and cost is not None and cost > budget_usd
    return f.model_copy(update={"over_budget": True}) if over else f


def not_fit_penalty(f: MethodFit) -> float:
    """3 points, plus 2 per doubling of memory beyond the GPU's: 70B full fine-tuning on a 24 GB
    card (50x) must lose to 70B QLoRA on it (1.8x). Nothing fits on any GPU count: 15."""
    if f.gpu_memory_gib is None or f.rented:
        return 15.0
    return 3.0 + 2.0 * math.log2(max(f.total_gib / f.gpu_memory_gib, 1.0))


def finetune_plan(j: Job, approach: str, recipe: str, fits: dict[str, MethodFit],
                  stage: MethodFit | None, keep_general_skills: bool) -> FineTunePlan:
    """The chosen method with its figures, the GPU table and the assumptions."""
    f = fits[approach]
    req = _request(j, f.method, recipe, f.gpu, f.gpus, f.sharding)
    est = _est().estimate(req)
    if recipe == "dpo":
        lr = DEFAULT_LR["dpo"]
    else:
        lr = DEFAULT_LR[f.method] / (2 if keep_general_skills and f.method != "full" else 1)
    return FineTunePlan(
        method=f.method, recipe=recipe, model=j.model,
        params_total=est.params_total, params_trainable=est.params_trainable,
        lora_rank=None if f.method == "full" else LORA_RANK,
        lora_targets=None if f.method == "full" else LORA_TARGETS,
        quant=req.quant, precision=req.precision, batch_size=req.batch_size,
        grad_accum=req.gradient_accumulation, sharding=req.sharding, seq_len=req.seq_len,
        gradient_checkpointing=True, epochs=EPOCHS, learning_rate=lr,
        train_tokens=train_tokens_for(j, recipe), fit=f, examples=j.examples,
        data_kind=j.kind, dpo_stage=stage, alternatives=list(fits.values()),
        gpu_table=list(table(j, f.method, recipe)),
        smaller_model=None if f.fits or j.gpu is None else smaller_fit(j, recipe),
        assumptions=assumptions(j, recipe) + list(est.assumptions),
    )


def smaller_fit(j: Job, recipe: str) -> str | None:
    """The largest smaller model (same family or line) that fits the user's GPUs with QLoRA."""
    for name in smaller_models(j.model):
        if fit(replace(j, model=name), "qlora", recipe).fits:
            return name
    return None


def serving_fit(j: Job) -> MethodFit:
    """Memory to serve the model for inference (16-bit weights + KV cache of one sequence)."""
    return fit(j, "inference", "sft")


def serving_options(j: Job) -> list[str]:
    """What would serve the model when it does not fit the user's GPUs: 4-bit weights on them,
    more of them, or the cheapest catalog GPUs."""
    n, sharding = j.gpu_count, SERVING_SHARDING if j.gpu_count > 1 else "none"
    nf4 = _est().estimate(_request(j, "inference", "sft", j.gpu, n, sharding, quant="nf4"))
    out = [f"4-bit (NF4) weights need {nf4.memory_gib['total']:.1f} GiB per GPU: "
           + ("they fit " if nf4.fits_gpu else "still too much for ") + f"{n} x {j.gpu}"]
    rows = table(j, "inference", "sft")
    mine = next((r for r in rows if r.gpu == j.gpu and r.gpus), None)
    if mine is not None:
        out.append(f"16-bit weights split over {mine.gpus} x {j.gpu} ({mine.total_gib:.1f} GiB each)")
    cheapest = next((r for r in rows if r.gpus), None)
    if cheapest is not None and cheapest.gpu != j.gpu:
        out.append(f"16-bit on {cheapest.gpus} x {cheapest.gpu}, the cheapest catalog GPUs that fit "
                   f"({cheapest.total_gib:.1f} GiB each)")
    return out


def serving_assumptions(j: Job) -> list[str]:
    return [
        f"Serving {j.model} sized for one sequence of {seq_len_for(j):,} tokens with 16-bit weights "
        "and its KV cache; more concurrent requests need more KV cache. Over several GPUs the "
        "weights are split (tensor parallel); the KV cache is counted whole on each, an overestimate.",
    ]


def assumptions(j: Job, recipe: str) -> list[str]:
    pairs = " (a DPO pair counts as two sequences)" if recipe == "dpo" else ""
    seq = seq_len_for(j)
    capped = (f", capped at {j.model}'s context of {seq:,} tokens (longer examples chunked)"
              if seq < j.example_tokens else "")
    return [
        f"Sized at micro-batch {2 if recipe == 'dpo' else 1}{pairs} x {GRAD_ACCUM} gradient "
        "accumulation steps with gradient checkpointing: the leanest ordinary setup.",
        f"LoRA rank {LORA_RANK} on all linear layers; QLoRA = NF4 with double quantization.",
        f"Sequence length {seq:,} (typical example of {j.example_tokens:,} tokens, rounded up to "
        f"256{capped}); {EPOCHS} epochs over {j.examples:,} {j.kind} = "
        f"{train_tokens_for(j, recipe) * EPOCHS:,} tokens.",
        "Several GPUs: DDP copies when one fits a GPU, else FSDP full shard (the plan names it).",
        "Cost at the GPU catalog's on-demand price per hour, even for GPUs you own.",
    ]
