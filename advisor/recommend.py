"""`recommend(answers) -> Recommendation`: run every rule, add up the scores, let the estimator
choose between LoRA, QLoRA and full fine-tuning, pick the winner, and explain it. Pure and fast:
no torch, no I/O beyond the estimator's catalog lookups."""
from __future__ import annotations

from advisor import sizing
from advisor.answers import Answers
from advisor.recommendation import (
    APPROACH_LABELS,
    Reason,
    Recommendation,
    Source,
)
from advisor.rules import APPROACHES, FINETUNE, RULES
from advisor.rules.data import MIN_DPO_PAIRS, training_examples

# The hybrid: a fine-tuned primary also gets RAG when the facts side scores at least this;
# and when RAG wins but fine-tuning scores at least FT_HYBRID_THRESHOLD (a behaviour RAG cannot
# give), the fine-tuned model becomes the primary with RAG combined (seed 001's pattern).
RAG_HYBRID_THRESHOLD = 2.0
FT_HYBRID_THRESHOLD = 4.0
# Ties go to the cheaper, simpler approach.
_TIE_ORDER = {a: i for i, a in enumerate(APPROACHES)}


def choose_recipe(a: Answers) -> str:
    """DPO when preference pairs are the training data (seed 002: DPO on preference pairs);
    otherwise SFT on labelled examples (SFT first, then DPO, when there is plenty of both)."""
    if a.preference_pairs >= MIN_DPO_PAIRS and a.preference_pairs >= a.labeled_examples:
        return "dpo"
    return "sft"


def _run_rules(a: Answers) -> tuple[dict[str, float], list[tuple[Reason, list[str], bool]]]:
    scores = {k: 0.0 for k in APPROACHES}
    fired = []
    for r in RULES:
        out = r.apply(a)
        if out is None:
            continue
        for k, v in out.deltas.items():
            scores[k] += v
        reason = Reason(
            rule=r.name, text=out.text, answers=out.answers, source=r.source, claim=r.claim,
            correction=r.correction, effect=out.deltas,
        )
        fired.append((reason, out.warnings, r.finetune_only))
    return scores, fired


def _winner(scores: dict[str, float]) -> str:
    return max(APPROACHES, key=lambda k: (round(scores[k], 6), -_TIE_ORDER[k]))


def recommend(answers: Answers, *, detail: bool = True) -> Recommendation:
    """The recommendation for `answers`. `detail=False` skips what-would-change-it, next steps,
    the GPU table and serving figures (used when re-running with changed answers)."""
    a = answers
    scores, fired = _run_rules(a)
    recipe = choose_recipe(a)
    fits = sizing.size_methods(a, recipe) if training_examples(a) > 0 else {}
    size_reasons = sizing.sizing_reasons(a, fits) if fits else []
    for reason in size_reasons:
        for k, v in reason.effect.items():
            scores[k] += v
    primary = _winner(scores)
    best_ft = _winner({k: (v if k in FINETUNE else float("-inf")) for k, v in scores.items()})
    if primary == "rag" and scores[best_ft] >= FT_HYBRID_THRESHOLD:
        primary = best_ft  # build the fine-tuned model; RAG joins it below
    is_ft = primary in FINETUNE
    combine = ["rag"] if is_ft and scores["rag"] >= RAG_HYBRID_THRESHOLD else []
    reasons = [r for r, _, ft_only in fired if is_ft or not ft_only]
    if is_ft:
        reasons += size_reasons
    warnings = [w for r, ws, ft_only in fired if is_ft or not ft_only for w in ws]
    rec = Recommendation(
        headline="",
        primary=primary,
        combine_with=combine,
        recipe=recipe if is_ft else None,
        scores={k: round(v, 2) for k, v in scores.items()},
        reasons=_order(reasons, primary, combine),
        warnings=warnings,
    )
    if not detail:
        return rec
    from advisor.next_steps import next_steps
    from advisor.whatif import what_would_change_it

    if is_ft:
        rec.finetune = sizing.finetune_plan(a, primary, recipe, fits)
        rec.warnings += _fit_warnings(a, rec)
        rec.assumptions = rec.finetune.assumptions
    rec.warnings += sizing.context_warnings(a)
    rec.serving = sizing.serving_fit(a)
    rec.assumptions += sizing.serving_assumptions(a)
    rec.headline = headline(a, rec)
    rec.what_would_change_it = what_would_change_it(a, rec)
    rec.next_steps = next_steps(a, rec)
    rec.sources = _sources(rec.reasons)
    return rec


def supports(effect: dict[str, float], winners: set[str]) -> bool:
    """A reason supports the recommendation when it raised a winner, or lowered a rival
    without lowering a winner (e.g. "full fine-tuning does not fit" supports LoRA). Advice
    without a score change (e.g. "adapters on all linear layers") goes with the recommendation."""
    if not any(effect.values()):
        return True
    raised = any(effect.get(k, 0) > 0 for k in winners)
    lowered_winner = any(effect.get(k, 0) < 0 for k in winners)
    lowered_rival = any(v < 0 for k, v in effect.items() if k not in winners)
    return raised or (lowered_rival and not lowered_winner)


def _order(reasons: list[Reason], primary: str, combine: list[str]) -> list[Reason]:
    """Supporting reasons first (marked `supports`), then the rest, each group in rule order."""
    winners = {primary, *combine}
    for r in reasons:
        r.supports = supports(r.effect, winners)
    return sorted(reasons, key=lambda r: not r.supports)


def _fit_warnings(a: Answers, rec: Recommendation) -> list[str]:
    plan = rec.finetune
    assert plan is not None
    out = []
    fit = plan.fit
    if not fit.fits:
        where = f"{a.gpu_count} x {a.gpu}" if a.gpu else "any catalog GPU"
        msg = (f"Even {sizing.method_name(plan.method)}, the leanest method, needs "
               f"{fit.total_gib:.1f} GiB per GPU for {a.model}: it does not fit {where}.")
        if plan.smaller_model:
            msg += f" A smaller model fits with QLoRA: {plan.smaller_model}."
        cheapest = next((r for r in plan.gpu_table if r.fits), None)
        if cheapest:
            msg += f" Or rent {cheapest.gpus or 1} x {cheapest.gpu}."
        out.append(msg)
    if fit.over_budget and fit.cost_usd is not None and a.budget_usd is not None:
        out.append(f"The estimated training cost (${fit.cost_usd:,.0f}) is over your "
                   f"${a.budget_usd:,.0f} budget: train on fewer examples or epochs first.")
    return out


_PLAIN_HEADLINE = {
    "prompting": "Prompting: clear instructions, the output format and a few examples",
    "rag": "RAG: retrieve passages from your documents and answer from them",
}


def headline(a: Answers, rec: Recommendation) -> str:
    main = _PLAIN_HEADLINE.get(rec.primary, APPROACH_LABELS[rec.primary])
    if a.data_must_stay_on_prem:
        main += ", with a self-hosted model"
    if rec.primary in FINETUNE:
        main = f"{main} of {a.model} ({(rec.recipe or 'sft').upper()})"
        if rec.finetune is not None:
            f = rec.finetune.fit
            where = f"{f.gpus} x {f.gpu}" if f.gpu else "any catalog GPU"
            main += (f" on {where}, {f.total_gib:.1f} GiB per GPU" if f.fits else
                     f", needs {f.total_gib:.1f} GiB per GPU: does not fit {where}")
    if "rag" in rec.combine_with:
        main += ", with RAG for the facts"
    return main


def _sources(reasons: list[Reason]) -> list[Source]:
    by_file: dict[str, list[str]] = {}
    for r in reasons:
        claims = by_file.setdefault(r.source, [])
        if r.claim not in claims:
            claims.append(r.claim)
    return [Source(file=f, claims=c) for f, c in sorted(by_file.items())]

