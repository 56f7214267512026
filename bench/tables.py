"""Rows the comparison benchmarks share: an arm's right answers first, then its form, then the
overlap metrics, so every table reads the same way."""
from __future__ import annotations

ARM_COLUMNS = ["correct", "format match", "length x ref", "exact match", "token F1", "hit@k"]


def arm_cells(m) -> list[str]:
    """compare.results.ArmMetrics as table cells, in ARM_COLUMNS' order."""
    fm = m.format_match
    ratio = f"{fm.length_ratio_median:.1f}" if fm.length_ratio_median is not None else "-"
    return [f"{round(m.answer_correct * m.questions)} of {m.questions} ({m.answer_correct:.2f})", f"{fm.score:.2f}",
            ratio, f"{fm.exact_match:.2f}", f"{m.token_f1:.2f}", f"{m.hit_at_k:.2f}" if m.hit_at_k is not None else "-"]


def header(extra: list[str] = ()) -> list[str]:
    columns = ["arm", *ARM_COLUMNS, *extra]
    return ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]


def row(title: str, m, extra: list[str] = ()) -> str:
    return "| " + " | ".join([title, *arm_cells(m), *extra]) + " |"
