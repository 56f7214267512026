"""What the evidence shows, in one paragraph: which arm wins on the comparison's main metric, by
how much and whether that is beyond the noise of this many questions, what each costs to serve,
when the one-off cost pays back, and whether it agrees with the advisor's recommendation.

Noise: the winner's per-question scores against each other arm's, paired (same questions);
a difference counts as clear when it exceeds two standard errors of the paired mean difference
(about a 95% interval for the mean of n >= 10 paired differences).
"""
from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from compare.spec import ARM_TITLES, AdvisedArm

class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="The metric the arms are ranked by.")
    metric_label: str
    best_arm: str
    scores: dict[str, float] = Field(description="Arm -> its mean on the metric, in the arms' order.")
    clear_over: dict[str, bool] = Field(description="Arm -> whether the best arm beats it by more than the noise.")
    advised_arm: str | None = None
    agrees: bool | None = Field(None, description="Whether the advised arm is the best one or within the noise of it.")
    verdict: Literal["agrees", "disagrees", "no advice"] = "no advice"
    paragraph: str


def paired_noise(a: list[float], b: list[float]) -> tuple[float, float]:
    """(mean of a - b, two standard errors of that mean) over paired per-question scores."""
    diffs = [x - y for x, y in zip(a, b)]
    n = len(diffs)
    if n == 0:
        return 0.0, 0.0
    mean = sum(diffs) / n
    if n == 1:
        return mean, math.inf
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    return mean, 2 * sd / math.sqrt(n)


def _title(arm: str) -> str:
    return ARM_TITLES.get(arm, arm)


def _usd(value: float | None) -> str:
    """Dollars with the digits that matter: $1,234.50, $0.42, $0.0031, under $0.0001."""
    if value is None:
        return "no price"
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01:
        return f"${value:.2f}"
    return f"${value:.2g}" if value >= 1e-4 else "under $0.0001"


def summarize_evidence(results, per_question: dict[str, list[float]], metric: str, metric_label: str,
                       advised: AdvisedArm | None = None, preface: str = "") -> Evidence:
    """The Evidence for `results` (compare.results.Results) ranked by `metric`, whose per-question
    scores per arm are `per_question`; `preface` (why this metric) opens the paragraph."""
    scores = {arm: sum(v) / len(v) if v else 0.0 for arm, v in per_question.items()}
    best = max(scores, key=lambda arm: (scores[arm], -list(scores).index(arm)))  # ties: the earlier (simpler) arm
    clear = {}
    parts = []
    for arm in scores:
        if arm == best:
            continue
        diff, noise = paired_noise(per_question[best], per_question[arm])
        clear[arm] = diff > noise
        parts.append(f"{scores[arm]:.2f} for {_title(arm)} ({'+' if diff >= 0 else ''}{diff:.2f}, "
                     f"{'beyond' if clear[arm] else 'within'} the noise of {len(per_question[arm])} questions: "
                     f"2 standard errors = {noise:.2f})")
    text = [preface] if preface else []
    text += [f"On {results.eval_examples} held-out questions, {_title(best)} scores best on {metric_label}: "
            f"{scores[best]:.2f}" + (", against " + "; ".join(parts) if parts else "") + "."]
    text += _cost_sentences(results, scores, best)
    text += _training_sentences(results)
    agrees = verdict = None
    if advised is not None:
        arm = advised.arm
        agrees = arm == best or (arm in clear and not clear[arm])
        verdict = "agrees" if agrees else "disagrees"
        how = "it is the best arm" if arm == best else (
            f"{_title(arm)} is within the noise of the best" if agrees else
            f"{_title(best)} beats {_title(arm)} by {scores[best] - scores.get(arm, 0.0):.2f}")
        text.append(f"The advisor recommended {advised.headline or advised.approach}; the evidence {verdict}: {how}.")
    return Evidence(metric=metric, metric_label=metric_label, best_arm=best, scores=scores, clear_over=clear,
                    advised_arm=advised.arm if advised else None, agrees=agrees, verdict=verdict or "no advice",
                    paragraph=" ".join(text))


def _cost_sentences(results, scores: dict[str, float], best: str) -> list[str]:
    """Serving cost per 1k queries of the best arm and the runner-up (the next best score: the
    choice a team weighs), their one-off costs, and the break-even volume between them."""
    costs = results.costs
    ranked = sorted(scores, key=lambda arm: -scores[arm])
    runner = next((arm for arm in ranked if arm != best), None)
    if costs is None or best not in costs.arms:
        return []
    b = costs.arms[best]
    text = f"At {costs.gpu} prices, {_title(best)} costs {_usd(b.per_1k_queries_usd)} per 1k queries"
    text += f" (plus {_usd(b.fixed_usd)} once)" if b.fixed_usd else ""
    if runner is None or runner not in costs.arms:
        return [text + "."]
    r = costs.arms[runner]
    text += f", against {_usd(r.per_1k_queries_usd)} for {_title(runner)}"
    text += f" (plus {_usd(r.fixed_usd)} once)" if r.fixed_usd else ""
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
