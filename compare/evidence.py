"""What the evidence shows, in one paragraph: the metric the arms are ranked by and why, each arm
on both axes (how many answers are right, and whether they take your references' form), which arm
ranks first and how sure that is, whether the retriever or the model lost the retrieval arms'
misses, what each costs to serve, when a one-off cost pays back, and whether it agrees with the
advisor.

How sure: each arm against the best on the same questions, paired: the mean difference with a
95% paired-bootstrap interval and, for 0/1 metrics, an exact McNemar p-value (compare.stats). A
difference is clear when its interval lies above 0 and, for 0/1 metrics, McNemar's p is below 0.05
too (on a few questions the percentile bootstrap is optimistic: 5 wins and 0 losses of 10 give an
interval above 0 but p = 0.062); when it is not, the paragraph says how many questions would
separate the two at the observed difference.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from compare.ranking import MainMetric
from compare.spec import ARM_TITLES, FINETUNED_ARMS, AdvisedArm
from compare.stats import is_binary, mcnemar_exact, paired_bootstrap, questions_needed

# Answers whose median length is within this factor of the references' take "your format".
FORMAT_FACTOR = 2.0
SIGNIFICANCE = 0.05


class PairedComparison(BaseModel):
    """The best arm against one other on the same questions."""

    model_config = ConfigDict(extra="forbid")

    difference: float = Field(description="Mean of best - this arm over the questions.")
    ci_low: float = Field(description="Lower end of the 95% paired-bootstrap interval of the difference.")
    ci_high: float = Field(description="Upper end of that interval.")
    mcnemar_p: float | None = Field(None, description="Exact McNemar p-value (0/1 metrics only).")
    clear: bool = Field(
        description="Whether the interval lies above 0 (and McNemar's p is below 0.05, for 0/1 scores)."
    )
    questions_needed: int | None = Field(
        None, description="Questions that would separate the two at this difference (5% two-sided, 80% power), "
        "when the interval straddles 0.")


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="The metric the arms are ranked by.")
    metric_label: str
    metric_rule: str = Field("", description="Why this metric ranks the arms.")
    ranked: bool = Field(True, description="False when every arm scores the same on it: nothing could be ranked.")
    best_arm: str | None = Field(description="The arm that ranks first (None when nothing could be ranked).")
    scores: dict[str, float] = Field(description="Arm -> its mean on the metric, in the arms' order.")
    versus_best: dict[str, PairedComparison] = Field(
        default_factory=dict, description="Arm -> the best arm against it, with how sure that is.")
    clear_over: dict[str, bool] = Field(description="Arm -> whether the best arm beats it beyond the noise.")
    advised_arm: str | None = None
    agrees: bool | None = Field(None, description="Whether the advised arm is the best one or within the noise of it.")
    verdict: Literal["agrees", "disagrees", "undecided", "not run", "no advice"] = "no advice"
    paragraph: str


def _title(arm: str) -> str:
    return ARM_TITLES.get(arm, arm)


def usd(value: float | None) -> str:
    """Dollars with the digits that matter: $1,234.50, $0.42, $0.0031, under $0.0001, $0 (the
    paragraph and compare.view's cost table)."""
    if value is None:
        return "no price"
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01:
        return f"${value:.2f}"
    return f"${value:.2g}" if value >= 1e-4 else "under $0.0001"


def compare_with_best(best: list[float], other: list[float], seed: int = 0) -> PairedComparison:
    """The paired statistics of best - other (compare.stats)."""
    diff, low, high = paired_bootstrap(best, other, seed=seed)
    p = mcnemar_exact(best, other) if is_binary(best) and is_binary(other) else None
    clear = low > 0 and (p is None or p < SIGNIFICANCE)
    return PairedComparison(difference=diff, ci_low=low, ci_high=high, clear=clear, mcnemar_p=p,
                            questions_needed=None if clear else questions_needed(best, other))


def summarize_evidence(results, main: MainMetric, advised: AdvisedArm | None = None, seed: int = 0) -> Evidence:
    """The Evidence for `results` (compare.results.Results, with each arm's format and retrieval
    split) ranked by `main` (compare.ranking: the metric, why, and each arm's per-question scores)."""
    per_q = main.per_question
    scores = {arm: sum(v) / len(v) if v else 0.0 for arm, v in per_q.items()}
    # Arms that all score the same rank nothing (a lone arm ranks first if it scores at all).
    ranked = len(set(scores.values())) > 1 or (len(scores) == 1 and max(scores.values()) > 0)
    best = max(scores, key=lambda arm: (scores[arm], -list(scores).index(arm))) if ranked else None  # ties: simpler
    versus = {arm: compare_with_best(per_q[best], per_q[arm], seed) for arm in scores if best and arm != best}
    text = [main.rule, _axes_sentence(results, main, scores)]
    text += [_ranking_sentence(main, best, scores, versus)] if ranked else [_unranked_sentence(main, scores)]
    text += _retrieval_sentences(results)
    text += _cost_sentences(results, scores, best) if best else []
    text += _training_sentences(results)
    verdict, agrees, sentence = _advice(advised, scores, best, versus)
    text += [sentence] if sentence else []
    return Evidence(metric=main.metric, metric_label=main.label, metric_rule=main.rule, ranked=ranked, best_arm=best,
                    scores=scores, versus_best=versus, clear_over={arm: c.clear for arm, c in versus.items()},
                    advised_arm=advised.arm if advised else None, agrees=agrees, verdict=verdict,
                    paragraph=" ".join(t for t in text if t))


def _how_many(main: MainMetric, arm: str, scores: dict[str, float]) -> str:
    """"answers 10 of 12 correctly", "passes execution accuracy on 3 of 42", "scores 0.41 on token F1"."""
    n = len(main.per_question[arm])
    if not main.binary:
        return f"scores {scores[arm]:.2f} on {main.label}"
    right = round(sum(main.per_question[arm]))
    if main.metric == "answer_correct":
        return f"answers {right} of {n} correctly"
    if main.metric == "exact_match":
        return f"matches the reference exactly on {right} of {n}"
    return f"passes {main.label} on {right} of {n}"


def _form(arm) -> str:
    """Where an arm's answers (its ArmMetrics) stand against the references' form: the opening word
    they share, if any (an answer in prose is not a query, however long), then their length."""
    form = arm.format_match
    if form is None or form.length_ratio_median is None:
        return ""
    if form.opening and form.opening_share is not None and form.opening_share < 0.5:
        opened = round(form.opening_share * arm.questions)
        return f"mostly not in your form ({opened} of {arm.questions} open with '{form.opening}' as your references do)"
    ratio = form.length_ratio_median
    if 1 / FORMAT_FACTOR <= ratio <= FORMAT_FACTOR:
        return "in your format"
    if ratio > FORMAT_FACTOR:
        return f"in answers about {ratio:.0f}x longer than your references"
    return f"in answers about {1 / ratio:.0f}x shorter than your references" if ratio else "with empty answers"


def _axes_sentence(results, main: MainMetric, scores: dict[str, float]) -> str:
    """Each arm on both axes: how many are right (the main metric) and the answers' form."""
    top = max(scores.values())
    clauses = []
    for arm in scores:
        m = results.arms.get(arm)
        form = _form(m) if m is not None else ""
        clause = f"{_title(arm)} {_how_many(main, arm, scores)}" + (f", {form}" if form else "")
        learned_form = form == "in your format" and arm in FINETUNED_ARMS and scores[arm] <= top / 2
        clauses.append(clause + (" (it learned the form, not the facts)" if learned_form else ""))
    return f"On {results.eval_examples} held-out questions: " + "; ".join(clauses) + "."


def _ranking_sentence(main: MainMetric, best: str, scores: dict[str, float],
                      versus: dict[str, PairedComparison]) -> str:
    """The best arm against the others; arms it beats by the same figures share one clause."""
    groups: dict[tuple, list[str]] = {}
    for arm, c in versus.items():
        groups.setdefault((c.difference, c.ci_low, c.ci_high, c.mcnemar_p, c.clear, c.questions_needed), []).append(arm)
    parts = []
    for (difference, low, high, p, clear, needed), arms in groups.items():
        names = _and([_title(a) for a in arms])
        if difference == 0:
            parts.append(f"level with {names}")
            continue
        each = " each" if len(arms) > 1 else ""
        mcnemar = f", McNemar p = {p:.2g}" if p is not None else ""
        how = "beyond the noise" if clear else "within the noise" + (
            f": about {needed:,} questions would separate them" if needed else "")
        parts.append(f"ahead of {names} by {difference:.2f}{each} (95% interval {low:+.2f} to {high:+.2f}{mcnemar}; "
                     f"{how})")
    return f"{_title(best)} ranks first on {main.label} ({scores[best]:.2f})" + (
        ": " + "; ".join(parts) if parts else "") + "."


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unranked_sentence(main: MainMetric, scores: dict[str, float]) -> str:
    value = next(iter(scores.values()), 0.0)
    return (f"{main.label[0].upper()}{main.label[1:]} is {value:.2f} for every arm, so nothing could be ranked on "
            "it: no arm is named best.")


def _retrieval_sentences(results) -> list[str]:
    """Whether the retriever or the model lost the retrieval arms' wrong answers (their retrieval
    splits): "the retriever found the answer's passage for 12 of 12 questions; Base + RAG used it in 10"."""
    splits = {arm: m.retrieval_split for arm, m in results.arms.items() if m.retrieval_split is not None}
    if not splits:
        return []
    found = {s.hit_correct + s.hit_wrong for s in splits.values()}
    total = next(iter(splits.values()))
    total = total.hit_correct + total.hit_wrong + total.miss_correct + total.miss_wrong
    used = [f"{_title(arm)} used it in {s.hit_correct}" + (f" (and was right {s.miss_correct} more times "
            "without it)" if s.miss_correct else "") for arm, s in splits.items()]
    model_lost = sum(s.hit_wrong for s in splits.values())
    retriever_lost = sum(s.miss_wrong for s in splits.values())
    who = ("the model, not the retriever, lost most wrong answers" if model_lost > retriever_lost else
           "the retriever, not the model, lost most wrong answers" if retriever_lost > model_lost else "")
    if len(found) == 1:
        text = f"The retriever found the answer's passage for {found.pop()} of {total} questions; " + "; ".join(used)
    else:  # the arms judged right by different metrics retrieve the same passages; say each
        text = "; ".join(f"for {_title(arm)} the retriever found the answer's passage for {s.hit_correct + s.hit_wrong}"
                         f" of {total} questions and the model used it in {s.hit_correct}" for arm, s in splits.items())
        text = text[0].upper() + text[1:]
    return [text + (f": {who}." if who else ".")]


def _advice(advised: AdvisedArm | None, scores: dict[str, float], best: str | None,
            versus: dict[str, PairedComparison]) -> tuple[str, bool | None, str]:
    """(verdict, agrees, sentence) of the evidence against the advisor's recommendation."""
    if advised is None:
        return "no advice", None, ""
    said = f"The advisor recommended {advised.headline or advised.approach}"
    arm = advised.arm
    if arm not in scores:
        return "not run", None, f"{said}; its arm ({_title(arm)}) did not run, so the evidence cannot judge it."
    if best is None:
        return "undecided", None, f"{said}; the evidence cannot tell: nothing was ranked."
    agrees = arm == best or not versus[arm].clear
    verdict = "agrees" if agrees else "disagrees"
    how = "it is the best arm" if arm == best else (
        f"{_title(arm)} is within the noise of the best" if agrees else
        f"{_title(best)} beats {_title(arm)} by {scores[best] - scores[arm]:.2f}")
    return verdict, agrees, f"{said}; the evidence {verdict}: {how}."


def _cost_sentences(results, scores: dict[str, float], best: str) -> list[str]:
    """Serving cost per 1k queries of the best arm and the runner-up (the next best score: the
    choice a team weighs), their one-off costs, and the break-even volume between them."""
    costs = results.costs
    ranked = sorted(scores, key=lambda arm: -scores[arm])
    runner = next((arm for arm in ranked if arm != best), None)
    if costs is None or best not in costs.arms:
        return []
    b = costs.arms[best]
    text = f"At {costs.gpu} prices, {_title(best)} costs {usd(b.per_1k_queries_usd)} per 1k queries"
    text += f" (plus {usd(b.fixed_usd)} once)" if b.fixed_usd else ""
    if runner is None or runner not in costs.arms:
        return [text + "."]
    r = costs.arms[runner]
    text += f", against {usd(r.per_1k_queries_usd)} for {_title(runner)}"
    text += f" (plus {usd(r.fixed_usd)} once)" if r.fixed_usd else ""
    out = [text + "."]
    for even in costs.break_even:
        if {even.cheaper_after, even.than} == {best, runner}:
            out.append(_break_even_sentence(even))
    return out


def _training_sentences(results) -> list[str]:
    """Say when an adapter stopped before its epochs (the CPU budget, or max_steps): its arm's
    score is then what a short training gives, a lower bound for a full one."""
    cut = [(name, t) for name, t in results.trainings.items() if t.epoch_steps and t.steps < t.epoch_steps]
    if not cut:
        return []
    arms = " and ".join(_title(arm) for _, t in cut for arm in t.arms)
    counts = {(t.steps, t.epoch_steps) for _, t in cut}
    steps = (f"{cut[0][1].steps} of {cut[0][1].epoch_steps} steps" + (" each" if len(cut) > 1 else "")
             if len(counts) == 1 else ", ".join(f"{t.steps} of {t.epoch_steps}" for _, t in cut) + " steps")
    return [f"{arms} trained {steps} (a step limit stopped {'them' if len(cut) > 1 else 'it'} before "
            f"the epochs): more training may score higher."]


def _break_even_sentence(even) -> str:
    hi, lo = _title(even.cheaper_after), _title(even.than)
    if even.queries is None:
        return f"{lo} costs less at every volume."
    if even.queries == 0:
        return f"{hi} costs less from the first query."
    return f"{hi} costs less than {lo} in total after {even.queries:,.0f} queries."
