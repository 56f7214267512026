"""Which metric ranks the arms, and why: the rule the evidence paragraph opens with.

In order: the metric the user named (`primary_metric`, `--primary-metric`); else the first task
scorer (`--scorer`: it knows what a right answer is for the task); else `answer_correct` when the
references are short (median SHORT_REFERENCE_TOKENS tokens or fewer: a fact, a name, a number,
which a right answer states); else token F1, with a sentence on what it measures (word overlap
with a long reference rewards answers worded like it, right or wrong).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from compare import metrics
from compare.spec import BINARY_METRICS
from compare.stats import is_binary

if TYPE_CHECKING:
    from compare.records import AnswerRecord, EvalItem, Scores

# SQuAD's answers are a few words (median 2-3 tokens, Rajpurkar et al. 2016, fig. 2); past 8 tokens
# a reference is a sentence, which a right answer need not repeat word for word.
SHORT_REFERENCE_TOKENS = 8

# Per-answer text metrics (compare.metrics, best over a reference's accepted answers) and labels.
TEXT_METRICS = {"answer_correct": metrics.answer_correct, "exact_match": metrics.exact_match,
                "token_f1": metrics.token_f1, "rouge_l": metrics.rouge_l}
METRIC_NAMES = {"answer_correct": "correct answers", "exact_match": "exact match", "token_f1": "token F1",
                "rouge_l": "ROUGE-L"}
# Task-aware scorers' labels (compare.scoring).
SCORER_LABELS: dict[str, str] = {"json": "valid JSON", "sql-exec": "execution accuracy"}


class MainMetric(BaseModel):
    """The metric the evidence ranks by, why, and every arm's per-question scores on it."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    label: str
    rule: str = Field(description="One sentence: why this metric.")
    binary: bool = Field(description="Whether every score is 0 or 1 (then McNemar applies).")
    per_question: dict[str, list[float]] = Field(description="Arm -> its score on each question it was scored on.")


def text_scores(answer: str, reference: str) -> dict[str, float]:
    """Every text metric of one answer (the best over the reference's accepted answers), and its
    length agreement (the form alone)."""
    out = {name: metrics.best_over_aliases(fn, answer, reference) for name, fn in TEXT_METRICS.items()}
    return out | {"length_agreement": metrics.length_agreement(answer, reference)}


def label_of(metric: str) -> str:
    return METRIC_NAMES.get(metric) or SCORER_LABELS.get(metric, metric)


def main_metric(primary: str | None, eval_items: list[EvalItem], answers: dict[str, dict[int, AnswerRecord]],
                scores: Scores | None) -> MainMetric:
    """The MainMetric by the module's rule (`primary`: the user's choice, or None)."""
    scorers = scores.scorers if scores else []
    name = primary or (scorers[0] if scorers else None)
    if name in scorers:
        why = "as you asked (--primary-metric)" if primary else "your task scorer"
        return _scored(name, f"The arms are ranked by {label_of(name)}, {why}.", eval_items, scores)
    length = metrics.median([len(metrics.tokens(metrics.reference_aliases(r.reference)[0])) for r in eval_items]) or 0
    if primary:
        return _text(primary, f"The arms are ranked by {label_of(primary)}, as you asked (--primary-metric).",
                     eval_items, answers)
    if length <= SHORT_REFERENCE_TOKENS:
        return _text("answer_correct", f"The arms are ranked by correct answers (an answer is right when it states "
                     f"the reference): your references are short (median {length:g} tokens).", eval_items, answers)
    return _text("token_f1", f"The arms are ranked by token F1: your references are long (median {length:g} "
                 "tokens), so whether an answer is right cannot be read off its words, and token F1 measures how "
                 "many words it shares with the reference, right or wrong; a task scorer (--scorer) would measure "
                 "correctness.", eval_items, answers)


def _text(
    metric: str, rule: str, eval_items: list[EvalItem], answers: dict[str, dict[int, AnswerRecord]]
) -> MainMetric:
    fn = TEXT_METRICS[metric]
    per_q = {arm: [metrics.best_over_aliases(fn, by_id[row.id].answer if row.id in by_id else "", row.reference)
                   for row in eval_items] for arm, by_id in answers.items()}
    return MainMetric(metric=metric, label=label_of(metric), rule=rule, per_question=per_q,
                      binary=metric in BINARY_METRICS)


def _scored(name: str, rule: str, eval_items: list[EvalItem], scores: Scores) -> MainMetric:
    """A task scorer's verdicts; questions it left out for some arm are left out for all (paired)."""
    verdicts = {arm: [a[name].score for a in r.per_answer] for arm, r in scores.arms.items()}
    kept = [i for i in range(len(eval_items)) if all(v[i] is not None for v in verdicts.values())]
    per_q = {arm: [float(v[i]) for i in kept] for arm, v in verdicts.items()}
    dropped = len(eval_items) - len(kept)
    if dropped:
        rule += f" {dropped} question(s) it could not score for some arm are left out for every arm."
    return MainMetric(metric=name, label=label_of(name), rule=rule, per_question=per_q,
                      binary=all(is_binary(v) for v in per_q.values()))
