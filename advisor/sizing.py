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
from common.vocabulary import APPROACH_METHOD, DEFAULT_LR, FINETUNE_APPROACHES, QUANT_OF
from common.vocabulary import DEFAULT_EPOCHS as EPOCHS
from common.vocabulary import DEFAULT_LORA_RANK as LORA_RANK
from common.vocabulary import DEFAULT_LORA_TARGETS as LORA_TARGETS

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


def job_for(answers: Answers, recipe: str) -> Job:
    """The job the answers describe: the student model on the labels when distilling."""
    plan = distillation(answers)
    return Job(model=plan.student if plan else answers.model, example_tokens=answers.example_tokens,
               examples=training_count(answers, recipe), kind=data_kind(answers, recipe), gpu=answers.gpu,
               gpu_count=answers.gpu_count, stack=answers.stack)


def dpo_job(answers: Answers) -> Job:
    """The DPO stage after SFT: the same model and GPUs, trained on the preference pairs."""
    return replace(job_for(answers, "sft"), examples=answers.preference_pairs, kind="pairs")


def serving_job(answers: Answers) -> Job:
    """The model that will be served: the student when distilling."""
    return replace(job_for(answers, "sft"), examples=0)


def seq_len_for(job: Job | Answers) -> int:
    """The typical example rounded up to 256 tokens, never beyond the model's context window."""
    rounded = max(256, math.ceil(job.example_tokens / 256) * 256)
    return min(rounded, context_window(job.model))


def train_tokens_for(job: Job, recipe: str) -> int:
    """Tokens seen per epoch: examples x typical length (a DPO pair is two sequences). Examples
    longer than the context are chunked, so every token is still trained on."""
    return job.examples * job.example_tokens * (2 if recipe == "dpo" else 1)


def _request(job: Job, method: str, recipe: str, gpu: str | None, gpus: int, sharding: str,
             quant: str | None = None):
    training = method != "inference"
    tokens = train_tokens_for(job, recipe) if training else 0
    return _est().EstimateRequest(
        model=job.model, method=method, lora_rank=LORA_RANK,
        quant=quant or QUANT_OF.get(method, "none"),  # serving: the 16-bit model
        batch_size=2 if recipe == "dpo" and training else 1,
        gradient_accumulation=GRAD_ACCUM if training else 1,
        seq_len=seq_len_for(job), gradient_checkpointing=training,
        gpus=gpus, sharding=sharding if gpus > 1 else "none",
        # T4 and V100 have no bf16: train in fp16 there.
        precision="bf16" if gpu is None or load_gpu(gpu).bf16 else "fp16",
        gpu=gpu, train_tokens=tokens or None, epochs=EPOCHS, stack=job.stack,
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


def fit(job: Job, method: str, recipe: str) -> MethodFit:
    """One method sized on the user's GPUs (DDP copies, else sharded), or, with no GPU named,
    on the cheapest catalog GPUs that fit."""
    return _cached(("fit", job, method, recipe, gpu_catalog_version()), lambda: _fit_uncached(job, method, recipe))


def _fit_uncached(job: Job, method: str, recipe: str) -> MethodFit:
    est_mod = _est()
    if job.gpu is not None:
        several = OWNED_SHARDINGS if method != "inference" else ("none", SERVING_SHARDING)
        for sharding in several if job.gpu_count > 1 else ("none",):  # the first that fits, else the leanest
            req = _request(job, method, recipe, job.gpu, job.gpu_count, sharding)
            est = est_mod.estimate(req)
            if est.fits_gpu:
                break
        return _method_fit(est, req, rented=False)
    row = next((r for r in table(job, method, recipe) if r.gpus is not None), None)
    req = _request(job, method, recipe, row.gpu if row else None, row.gpus if row else 1,
                   row.sharding if row else "none")
    out = _method_fit(est_mod.estimate(req), req, rented=True)
    return out.model_copy(update={"fits": row is not None})


def table(job: Job, method: str, recipe: str) -> tuple[GpuRow, ...]:
    """Every catalog GPU: the fewest that fit, with time and cost there; cheapest first."""
    key = ("table", job.model, job.example_tokens, job.examples, method, recipe, gpu_catalog_version())
    return _cached(key, lambda: _table_uncached(job, method, recipe))


def _table_uncached(job: Job, method: str, recipe: str) -> tuple[GpuRow, ...]:
    rows = _est().fit_table(_request(job, method, recipe, None, 1, "none"))
    return tuple(
        GpuRow(
            gpu=row.gpu, gpus=row.min_gpus, sharding=row.sharding, gpu_memory_gib=row.memory_gib,
            total_gib=row.total_gib, fits=row.min_gpus is not None, time_hours=row.time_hours,
            cost_usd=row.cost_usd, note=row.note,
        )
        for row in rows
    )


def unsharded_gib(job: Job, method_fit: MethodFit, recipe: str) -> float:
    """Per-GPU memory of the same job as one full copy per GPU (DDP), to show what sharding saves."""
    req = _request(job, method_fit.method, recipe, method_fit.gpu, method_fit.gpus, "none")
    return round(_est().estimate(req).memory_gib["total"], 1)


def size_methods(job: Job, recipe: str) -> dict[str, MethodFit]:
    """Every fine-tuning method sized the same way, keyed by approach name."""
    return {approach: fit(job, APPROACH_METHOD[approach], recipe) for approach in FINETUNE_APPROACHES}


def dpo_stages(job: Job) -> dict[str, MethodFit]:
    """The DPO stage after SFT, per approach, sized on the preference pairs (full fine-tuning's
    DPO stage trains a LoRA adapter on the merged model, as `ftadvisor tune --method dpo` does)."""
    return {"lora": fit(job, "lora", "dpo"), "qlora": fit(job, "qlora", "dpo"),
            "full_finetune": fit(job, "lora", "dpo")}


def plan_cost(method_fit: MethodFit, stage: MethodFit | None) -> float | None:
    """Training cost of the plan: the SFT job plus its DPO stage."""
    if method_fit.cost_usd is None:
        return None
    return method_fit.cost_usd + ((stage.cost_usd or 0.0) if stage is not None else 0.0)


def priced(method_fit: MethodFit, stage: MethodFit | None, budget_usd: float | None) -> MethodFit:
    """`method_fit` marked over budget when the plan (with its DPO stage) costs more than the budget; the
    budget is not part of the sizing cache, so what-ifs on the budget re-use the estimates."""
    cost = plan_cost(method_fit, stage)
    over = budget_usd is not None and cost is not None and cost > budget_usd
    return method_fit.model_copy(update={"over_budget": True}) if over else method_fit


def not_fit_penalty(method_fit: MethodFit) -> float:
    """3 points, plus 2 per doubling of memory beyond the GPU's: 70B full fine-tuning on a 24 GB
    card (50x) must lose to 70B QLoRA on it (1.8x). Nothing fits on any GPU count: 15."""
    if method_fit.gpu_memory_gib is None or method_fit.rented:
        return 15.0
    return 3.0 + 2.0 * math.log2(max(method_fit.total_gib / method_fit.gpu_memory_gib, 1.0))


def finetune_plan(job: Job, approach: str, recipe: str, fits: dict[str, MethodFit],
                  stage: MethodFit | None, keep_general_skills: bool) -> FineTunePlan:
    """The chosen method with its figures, the GPU table and the assumptions."""
    method_fit = fits[approach]
    req = _request(job, method_fit.method, recipe, method_fit.gpu, method_fit.gpus, method_fit.sharding)
    est = _est().estimate(req)
    if recipe == "dpo":
        lr = DEFAULT_LR["dpo"]
    else:
        lr = DEFAULT_LR[method_fit.method] / (2 if keep_general_skills and method_fit.method != "full" else 1)
    return FineTunePlan(
        method=method_fit.method, recipe=recipe, model=job.model,
        params_total=est.params_total, params_trainable=est.params_trainable,
        lora_rank=None if method_fit.method == "full" else LORA_RANK,
        lora_targets=None if method_fit.method == "full" else LORA_TARGETS,
        quant=req.quant, precision=req.precision, batch_size=req.batch_size,
        grad_accum=req.gradient_accumulation, sharding=req.sharding, seq_len=req.seq_len,
        gradient_checkpointing=True, epochs=EPOCHS, learning_rate=lr,
        train_tokens=train_tokens_for(job, recipe), fit=method_fit, examples=job.examples,
        data_kind=job.kind, dpo_stage=stage, alternatives=list(fits.values()),
        gpu_table=list(table(job, method_fit.method, recipe)),
        smaller_model=None if method_fit.fits or job.gpu is None else smaller_fit(job, recipe),
        assumptions=assumptions(job, recipe) + list(est.assumptions),
    )


def smaller_fit(job: Job, recipe: str) -> str | None:
    """The largest smaller model (same family or line) that fits the user's GPUs with QLoRA."""
    for name in smaller_models(job.model):
        if fit(replace(job, model=name), "qlora", recipe).fits:
            return name
    return None


def serving_fit(job: Job) -> MethodFit:
    """Memory to serve the model for inference (16-bit weights + KV cache of one sequence)."""
    return fit(job, "inference", "sft")


def serving_options(job: Job) -> list[str]:
    """What would serve the model when it does not fit the user's GPUs: 4-bit weights on them,
    more of them, or the cheapest catalog GPUs."""
    n, sharding = job.gpu_count, SERVING_SHARDING if job.gpu_count > 1 else "none"
    nf4 = _est().estimate(_request(job, "inference", "sft", job.gpu, n, sharding, quant="nf4"))
    out = [f"4-bit (NF4) weights need {nf4.memory_gib['total']:.1f} GiB per GPU: "
           + ("they fit " if nf4.fits_gpu else "still too much for ") + f"{n} x {job.gpu}"]
    rows = table(job, "inference", "sft")
    mine = next((row for row in rows if row.gpu == job.gpu and row.gpus), None)
    if mine is not None:
        out.append(f"16-bit weights split over {mine.gpus} x {job.gpu} ({mine.total_gib:.1f} GiB each)")
    cheapest = next((row for row in rows if row.gpus), None)
    if cheapest is not None and cheapest.gpu != job.gpu:
        out.append(f"16-bit on {cheapest.gpus} x {cheapest.gpu}, the cheapest catalog GPUs that fit "
                   f"({cheapest.total_gib:.1f} GiB each)")
    return out


def serving_assumptions(job: Job) -> list[str]:
    return [
        f"Serving {job.model} sized for one sequence of {seq_len_for(job):,} tokens with 16-bit weights "
        "and its KV cache; more concurrent requests need more KV cache. Over several GPUs the "
        "weights are split (tensor parallel); the KV cache is counted whole on each, an overestimate.",
    ]


def assumptions(job: Job, recipe: str) -> list[str]:
    pairs = " (a DPO pair counts as two sequences)" if recipe == "dpo" else ""
    seq = seq_len_for(job)
    capped = (f", capped at {job.model}'s context of {seq:,} tokens (longer examples chunked)"
              if seq < job.example_tokens else "")
    return [
        f"Sized at micro-batch {2 if recipe == 'dpo' else 1}{pairs} x {GRAD_ACCUM} gradient "
        "accumulation steps with gradient checkpointing: the leanest ordinary setup.",
        f"LoRA rank {LORA_RANK} on all linear layers; QLoRA = NF4 with double quantization.",
        f"Sequence length {seq:,} (typical example of {job.example_tokens:,} tokens, rounded up to "
        f"256{capped}); {EPOCHS} epochs over {job.examples:,} {job.kind} = "
        f"{train_tokens_for(job, recipe) * EPOCHS:,} tokens.",
        "Several GPUs: DDP copies when one fits a GPU, else FSDP full shard (the plan names it).",
        "Cost at the GPU catalog's on-demand price per hour, even for GPUs you own.",
    ]
