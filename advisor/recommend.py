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
from common.vocabulary import APPROACH_LABELS, FINETUNE_APPROACHES, METHOD_LABELS


def recommend(answers: Answers, *, detail: bool = True) -> Recommendation:
    """The recommendation for `answers`. `detail=False` skips the plan, what-would-change-it,
    next steps, serving figures and the headline (used when re-running with changed answers)."""
    a = answers
    d = decide(a)
    rec = Recommendation(
        headline="", primary=d.primary, combine_with=d.combine, recipe=d.recipe, then_dpo=d.then_dpo,
        distill=d.distill, ruled_out=d.ruled_out, scores=d.scores, reasons=d.reasons,
        warnings=checks.contradictions(a) + d.warnings,
    )
    if not detail:
        return rec
    _add_detail(a, d, rec)
    rec.headline = headline(a, rec)
    rec.what_would_change_it = what_would_change_it(a, rec)
    rec.next_steps = next_steps(a, rec)
    rec.sources = sources_of(rec.reasons)
    return rec


def _add_detail(a: Answers, d: Decision, rec: Recommendation) -> None:
    """The plan, serving and the warnings that need them."""
    if rec.primary in FINETUNE_APPROACHES:
        stage = d.stages.get(rec.primary)
        rec.finetune = sizing.finetune_plan(d.job, rec.primary, d.recipe, d.fits, stage, a.keep_general_skills)
        rec.warnings += checks.plan_warnings(a, rec)
        rec.assumptions = list(rec.finetune.assumptions)
        for extra in (_sharded(d, rec), _within_budget(a, rec)):
            if extra is not None:
                rec.reasons.insert(sum(r.supports for r in rec.reasons), extra)
    rec.warnings += checks.ruled_out_warnings(a, rec, d.fits, d.stages)
    served = sizing.serving_job(a)
    rec.warnings += checks.context_warnings(a, served.model)
    rec.serving = sizing.serving_fit(served)
    rec.warnings += checks.serving_warnings(a, rec.serving, served)
    rec.assumptions += sizing.serving_assumptions(served)


def _sharded(d: Decision, rec: Recommendation) -> Reason | None:
    """Why the plan shards: one copy would not fit a GPU."""
    plan = rec.finetune
    f = plan.fit
    if f.gpus < 2 or f.sharding == "none":
        return None
    copy = sizing.unsharded_gib(d.job, f, plan.recipe)
    adapter = f.method in ("lora", "qlora")
    reason = new_reason(
        "estimator_sharding", "fsdp-qlora" if adapter else "fsdp-paper",
        SHARDING_CLAIM["adapter" if adapter else "full"],
        f"One copy of the {METHOD_LABELS[f.method]} job needs {copy:.1f} GiB, more than a {f.gpu} holds; "
        f"{sharding_words(f.sharding, f.gpus)} over {f.gpus} GPUs brings it to {f.total_gib:.1f} GiB each.",
        ["gpu", "gpu_count", "model"], {})
    reason.supports = True
    return reason


SHARDING_CLAIM = {
    "adapter": "FSDP shards a QLoRA (or LoRA) model's frozen weights over several GPUs: two 24 GB "
               "cards can fine-tune a 70B model together.",
    "full": "FSDP shards parameters, gradients and optimizer states over the GPUs, so a model too "
            "large for one GPU trains across several.",
}


def _within_budget(a: Answers, rec: Recommendation) -> Reason | None:
    """The budget comparison that replaces a fixed price threshold: the plan's estimated cost
    against the budget, as a reason for the chosen method."""
    plan = rec.finetune
    cost = sizing.plan_cost(plan.fit, plan.dpo_stage)
    if a.budget_usd is None or cost is None:
        return None
    reason = new_reason("estimator_budget", "estimator", ESTIMATOR_CLAIM,
                     f"The plan costs about {money(cost)} on {where(plan.fit)}, within your "
                     f"{money(a.budget_usd)} budget.", ["budget_usd", "gpu", "gpu_count"], {})
    reason.supports = True
    return reason


_PLAIN = {
    "prompting": "Prompting: clear instructions, the output format and a few examples",
    "rag": "RAG: retrieve passages from your documents and answer from them",
}


def headline(a: Answers, rec: Recommendation) -> str:
    """One sentence: what to build, of which model, where, and what joins it."""
    if rec.primary not in FINETUNE_APPROACHES:
        main = _PLAIN[rec.primary]
        return main.replace(":", ", with a self-hosted model:", 1) if a.data_must_stay_on_prem else main
    recipe = (rec.recipe or "sft").upper() + (" then DPO" if rec.then_dpo else "")
    plan = rec.finetune
    model = plan.model if plan else a.model
    if rec.distill is not None:
        parts = [f"Distil {rec.distill.teacher} into {model}: {APPROACH_LABELS[rec.primary]} ({recipe}) "
                 f"on {rec.distill.labels:,} labels from real traffic"]
    else:
        parts = [f"{APPROACH_LABELS[rec.primary]} ({recipe}) of {model}"]
    if a.data_must_stay_on_prem:
        parts.append("self-hosted")
    if plan is not None:
        f = plan.fit
        at = f"{f.gpus} x {f.gpu}" if f.gpu else "any catalog GPU"
        how = sharding_words(f.sharding, f.gpus)
        at += f" ({how})" if how else ""
        parts.append(f"on {at}, {f.total_gib:.1f} GiB per GPU" if f.fits else
                     f"needs {f.total_gib:.1f} GiB per GPU, does not fit {at}")
    if "rag" in rec.combine_with:
        parts.append("with RAG for the facts")
    return ", ".join(parts)


def sources_of(reasons: list[Reason]) -> list[Source]:
    """Every source a reason or a correction rests on, with the claims taken from it."""
    claims: dict[str, list[str]] = {}
    for r in reasons:
        entries = [(r.source, r.claim)]
        if r.correction_source and r.correction:
            entries.append((r.correction_source, f"What is right (rule {r.rule}): {r.correction}"))
        for sid, text in entries:
            if text not in claims.setdefault(sid, []):
                claims[sid].append(text)
    out = []
    for sid, cs in claims.items():
        s = source(sid)
        out.append(Source(file=s.id, title=s.title, kind=s.kind, where=s.where, url=s.url, claims=cs))
    return sorted(out, key=lambda s: s.title)
