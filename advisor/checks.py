"""Warnings about the answers and the plan: answers that contradict each other, a plan that does
not fit or runs away (months of training, a cost far beyond the budget), fine-tuning ruled out
by the budget, serving that does not fit the GPUs named, examples longer than the context."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.catalog import context_window, long_context_models
from advisor.recommendation import MethodFit, Recommendation
from advisor.sizing import Job, plan_cost, seq_len_for, serving_options
from advisor.text import approach_method_label, duration, method_label, money, where
from common.vocabulary import FINETUNE_APPROACHES

RUNAWAY_HOURS = 30 * 24  # a month of training on the plan's GPUs
RUNAWAY_COST_USD = 100_000.0  # with no budget given
FAR_OVER_BUDGET = 10.0  # x the budget


def contradictions(a: Answers) -> list[str]:
    """Answers that cannot both hold; the advice follows the need and says so."""
    out = []
    if "fresh_facts" in a.needs and a.knowledge_update == "never":
        out.append("Contradiction: you need answers from facts that change, but said the knowledge "
                   "never changes. The advice follows the need (facts that change are retrieved); "
                   "if the facts are static, choose private knowledge instead.")
    if a.gpu is None and a.gpu_count > 1:
        out.append(f"Contradiction: {a.gpu_count} GPUs but no GPU type named; the count is ignored "
                   "and every plan is sized on the cheapest rental that fits.")
    return out


def plan_warnings(a: Answers, rec: Recommendation) -> list[str]:
    plan = rec.finetune
    assert plan is not None
    out = []
    f = plan.fit
    if not f.fits:
        where_named = f"{a.gpu_count} x {a.gpu}" if a.gpu else "any catalog GPU"
        msg = (f"Even {method_label(plan.method)}, the leanest method, needs {f.total_gib:.1f} GiB "
               f"per GPU for {plan.model}: it does not fit {where_named}.")
        if plan.smaller_model:
            msg += f" A smaller model fits with QLoRA: {plan.smaller_model}."
        cheapest = next((r for r in plan.gpu_table if r.fits), None)
        if cheapest:
            msg += f" Or rent {cheapest.gpus or 1} x {cheapest.gpu}."
        out.append(msg)
    stage = plan.dpo_stage
    if stage is not None and not stage.fits and f.fits:
        out.append(f"The DPO stage (two sequences per pair) needs {stage.total_gib:.1f} GiB per GPU: "
                   f"it does not fit {where(stage)}; run it on a larger GPU from the table.")
    hours = (f.time_hours or 0.0) + ((stage.time_hours or 0.0) if stage else 0.0)
    if hours > RUNAWAY_HOURS:
        out.append(f"Runaway plan: training takes about {duration(hours)} on {where(f)}. Train on a "
                   "clean sample (quality beats quantity), fewer epochs or more GPUs, and check the "
                   "speed with a short run first (`--max-steps`).")
    cost = plan_cost(f, stage)
    if a.budget_usd is None and cost is not None and cost > RUNAWAY_COST_USD:
        out.append(f"Runaway plan: training would cost about {money(cost)} at on-demand prices. "
                   "Check the gain on a sample first.")
    return out


def ruled_out_warnings(a: Answers, rec: Recommendation, fits: dict[str, MethodFit],
                       stages: dict[str, MethodFit]) -> list[str]:
    """Fine-tuning would have won on the needs but the budget rules every method out."""
    if rec.primary in FINETUNE_APPROACHES or a.budget_usd is None or not fits:
        return []
    if not all(f.over_budget for f in fits.values()):
        return []
    best = max(FINETUNE_APPROACHES, key=lambda k: rec.scores[k])
    if rec.scores[best] <= rec.scores[rec.primary]:
        return []
    cheapest = min(FINETUNE_APPROACHES, key=lambda k: plan_cost(fits[k], stages.get(k)) or 0.0)
    cost = plan_cost(fits[cheapest], stages.get(cheapest)) or 0.0
    times = (
        f" ({cost / a.budget_usd:,.0f} times your budget)"
        if a.budget_usd and cost > FAR_OVER_BUDGET * a.budget_usd
        else ""
    )
    return [f"Fine-tuning suits your needs best, but no fine-tuning plan fits your {money(a.budget_usd)} "
            f"budget: the cheapest, {approach_method_label(cheapest)} on {where(fits[cheapest])}, costs "
            f"about {money(cost)}{times}. Until the budget allows it: {rec.primary}."]


def serving_warnings(a: Answers, serving: MethodFit, job: Job) -> list[str]:
    """The model does not fit the GPUs named for serving: what it needs and what would fit."""
    if a.gpu is None or serving.fits:
        return []
    options = "; ".join(serving_options(job))
    return [f"Serving {job.model} needs {serving.total_gib:.1f} GiB per GPU (16-bit weights and the "
            f"KV cache of one {seq_len_for(job):,}-token sequence; `ftadvisor estimate --method "
            f"inference`): it does not fit {where(serving)}. What would fit: {options}."]


def context_warnings(a: Answers, model: str) -> list[str]:
    """Examples longer than the model's context window are sized at the window and chunked."""
    limit = context_window(model)
    if a.example_tokens <= limit:
        return []
    longer = [m for m in long_context_models(a.example_tokens, model) if m != model]
    other = f" ({', '.join(longer)})" if longer else ""
    return [f"Typical examples of {a.example_tokens:,} tokens exceed {model}'s context of {limit:,} "
            f"tokens: memory, time and cost are computed at {limit:,} tokens. Chunk the examples "
            f"(or retrieve only the part each answer needs), or choose a longer-context model{other}."]
