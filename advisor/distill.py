"""Distillation, the cost path: a prompted large model already gives good answers but costs too
much per query, so label real traffic with it and fine-tune a much smaller model on the labels.

How many labels: a narrow task needs about 1K-10K good examples (layered glossary) and labels
from traffic cost only the teacher's inference, so aim for the top of that range, DISTILL_LABELS
(Hsieh et al. 2023 matched a 540B model with 770M-11B students trained on task datasets of that
order). Labels the team already has count when they are more.
"""
from __future__ import annotations

from functools import lru_cache

from advisor.answers import Answers
from advisor.catalog import student_model
from advisor.recommendation import Distillation

DISTILL_LABELS = 10_000


def distillation(a: Answers) -> Distillation | None:
    """The distillation plan when the answers call for one: per-query cost or latency is the
    need, prompting is good enough (the teacher's answers are worth copying), the task is
    settled, and the catalog has a student at least 4x smaller."""
    if "cost_latency" not in a.needs or a.prompting_result != "good_enough" or not a.requirements_stable:
        return None
    return _plan(a.model, a.labeled_examples, a.queries_per_day)


@lru_cache(maxsize=512)
def _plan(teacher: str, labeled: int, queries_per_day: int) -> Distillation | None:
    student = student_model(teacher)
    if student is None:
        return None
    labels = max(labeled, DISTILL_LABELS)
    hours = round(24 * labels / queries_per_day, 2) if queries_per_day else None
    return Distillation(teacher=teacher, student=student, labels=labels, traffic_hours=hours)
