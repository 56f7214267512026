"""`recommend(answers) -> Recommendation`: the decision (`advisor.decide`) with its detail: the
fine-tuning plan sized by the estimator, serving figures, warnings, the headline, what would
change it, next steps and the sources. Pure and fast: no torch, no I/O beyond catalog lookups."""
from __future__ import annotations

from advisor import checks, sizing
from advisor.answers import Answers
from advisor.decide import ESTIMATOR_CLAIM, Decision, decide, new_reason
from advisor.next_steps import next_steps
from advisor.recommendation import Reason, Recommendation, Source
from advisor.sources import source
from advisor.text import money, sharding_words, where
from advisor.whatif import what_would_change_it
from common.vocabulary import ADAPTER_METHODS, APPROACH_LABELS, FINETUNE_APPROACHES, METHOD_LABELS


def recommend(answers: Answers, *, detail: bool = True) -> Recommendation:
    """The recommendation for `answers`. `detail=False` skips the plan, what-would-change-it,
    next steps, serving figures and the headline (used when re-running with changed answers)."""
    decision = decide(answers)
    rec = Recommendation(
        headline="", primary=decision.primary, combine_with=decision.combine, recipe=decision.recipe,
        then_dpo=decision.then_dpo, distill=decision.distill, ruled_out=decision.ruled_out, scores=decision.scores,
        reasons=decision.reasons, warnings=checks.contradictions(answers) + decision.warnings,
    )
    if not detail:
        return rec
    _add_detail(answers, decision, rec)
    rec.headline = headline(answers, rec)
    rec.what_would_change_it = what_would_change_it(answers, rec)
    rec.next_steps = next_steps(answers, rec)
    rec.sources = sources_of(rec.reasons)
    return rec


def _add_detail(answers: Answers, decision: Decision, rec: Recommendation) -> None:
    """The plan, serving and the warnings that need them."""
    if rec.primary in FINETUNE_APPROACHES:
        stage = decision.stages.get(rec.primary)
        rec.finetune = sizing.finetune_plan(decision.job, rec.primary, decision.recipe, decision.fits, stage,
                                            answers.keep_general_skills)
        rec.warnings += checks.plan_warnings(answers, rec)
        rec.assumptions = list(rec.finetune.assumptions)
        for extra in (_sharded(decision, rec), _within_budget(answers, rec)):
            if extra is not None:
                rec.reasons.insert(sum(reason.supports for reason in rec.reasons), extra)
    rec.warnings += checks.ruled_out_warnings(answers, rec, decision.fits, decision.stages)
    served = sizing.serving_job(answers)
    rec.warnings += checks.context_warnings(answers, served.model)
    rec.serving = sizing.serving_fit(served)
    rec.warnings += checks.serving_warnings(answers, rec.serving, served)
    rec.assumptions += sizing.serving_assumptions(served)


def _sharded(decision: Decision, rec: Recommendation) -> Reason | None:
    """Why the plan shards: one copy would not fit a GPU."""
    plan = rec.finetune
    method_fit = plan.fit
    if method_fit.gpus < 2 or method_fit.sharding == "none":
        return None
    copy = sizing.unsharded_gib(decision.job, method_fit, plan.recipe)
    adapter = method_fit.method in ADAPTER_METHODS
    reason = new_reason(
        "estimator_sharding", "fsdp-qlora" if adapter else "fsdp-paper",
        SHARDING_CLAIM["adapter" if adapter else "full"],
        f"One copy of the {METHOD_LABELS[method_fit.method]} job needs {copy:.1f} GiB, more than a "
        f"{method_fit.gpu} holds; {sharding_words(method_fit.sharding, method_fit.gpus)} over {method_fit.gpus} "
        f"GPUs brings it to {method_fit.total_gib:.1f} GiB each.",
        ["gpu", "gpu_count", "model"], {})
    reason.supports = True
    return reason


SHARDING_CLAIM = {
    "adapter": "FSDP shards a QLoRA (or LoRA) model's frozen weights over several GPUs: two 24 GB "
               "cards can fine-tune a 70B model together.",
    "full": "FSDP shards parameters, gradients and optimizer states over the GPUs, so a model too "
            "large for one GPU trains across several.",
}


def _within_budget(answers: Answers, rec: Recommendation) -> Reason | None:
    """The budget comparison that replaces a fixed price threshold: the plan's estimated cost
    against the budget, as a reason for the chosen method."""
    plan = rec.finetune
    cost = sizing.plan_cost(plan.fit, plan.dpo_stage)
    if answers.budget_usd is None or cost is None:
        return None
    reason = new_reason("estimator_budget", "estimator", ESTIMATOR_CLAIM,
                     f"The plan costs about {money(cost)} on {where(plan.fit)}, within your "
                     f"{money(answers.budget_usd)} budget.", ["budget_usd", "gpu", "gpu_count"], {})
    reason.supports = True
    return reason


_PLAIN = {
    "prompting": "Prompting: clear instructions, the output format and a few examples",
    "rag": "RAG: retrieve passages from your documents and answer from them",
}


def headline(answers: Answers, rec: Recommendation) -> str:
    """One sentence: what to build, of which model, where, and what joins it."""
    if rec.primary not in FINETUNE_APPROACHES:
        main = _PLAIN[rec.primary]
        return main.replace(":", ", with a self-hosted model:", 1) if answers.data_must_stay_on_prem else main
    recipe = (rec.recipe or "sft").upper() + (" then DPO" if rec.then_dpo else "")
    plan = rec.finetune
    model = plan.model if plan else answers.model
    if rec.distill is not None:
        parts = [f"Distil {rec.distill.teacher} into {model}: {APPROACH_LABELS[rec.primary]} ({recipe}) "
                 f"on {rec.distill.labels:,} labels from real traffic"]
    else:
        parts = [f"{APPROACH_LABELS[rec.primary]} ({recipe}) of {model}"]
    if answers.data_must_stay_on_prem:
        parts.append("self-hosted")
    if plan is not None:
        method_fit = plan.fit
        at = f"{method_fit.gpus} x {method_fit.gpu}" if method_fit.gpu else "any catalog GPU"
        how = sharding_words(method_fit.sharding, method_fit.gpus)
        at += f" ({how})" if how else ""
        parts.append(f"on {at}, {method_fit.total_gib:.1f} GiB per GPU" if method_fit.fits else
                     f"needs {method_fit.total_gib:.1f} GiB per GPU, does not fit {at}")
    if "rag" in rec.combine_with:
        parts.append("with RAG for the facts")
    return ", ".join(parts)


def sources_of(reasons: list[Reason]) -> list[Source]:
    """Every source a reason or a correction rests on, with the claims taken from it."""
    claims: dict[str, list[str]] = {}
    for reason in reasons:
        entries = [(reason.source, reason.claim)]
        if reason.correction_source and reason.correction:
            entries.append((reason.correction_source, f"What is right (rule {reason.rule}): {reason.correction}"))
        for sid, text in entries:
            if text not in claims.setdefault(sid, []):
                claims[sid].append(text)
    out = []
    for sid, cs in claims.items():
        s = source(sid)
        out.append(Source(file=s.id, title=s.title, kind=s.kind, where=s.where, url=s.url, claims=cs))
    return sorted(out, key=lambda s: s.title)
