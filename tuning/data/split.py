"""A seeded train/eval split that keeps each group of duplicates (exact or near) on one side, so
no example leaks from training into evaluation through a copy of itself."""
from __future__ import annotations

import random

from tuning.data.dedup import exact_duplicate_groups
from tuning.data.schemas import Example
from tuning.errors import TuningError


def split_examples(
    examples: list[Example],
    eval_fraction: float = 0.1,
    seed: int = 42,
    *,
    groups: list[list[int]] | None = None,
) -> tuple[list[Example], list[Example]]:
    """(train, eval), both in file order. Exact duplicates always stay together; `groups` (lists of
    source lines, e.g. near-duplicate pairs) are kept together too. The eval side
    gets round(n * eval_fraction) examples (at least 1 when eval_fraction > 0 and n >= 2), or
    slightly fewer when a group would overshoot."""
    check_eval_fraction(eval_fraction)
    n = len(examples)
    target = min(max(round(n * eval_fraction), 1), n - 1) if eval_fraction > 0 and n >= 2 else 0
    components = _components(examples, groups or [])
    random.Random(seed).shuffle(components)
    eval_idx: set[int] = set()
    for comp in components:
        if len(eval_idx) >= target:
            break
        if len(eval_idx) + len(comp) <= target:
            eval_idx.update(comp)
    train = [ex for i, ex in enumerate(examples) if i not in eval_idx]
    return train, [ex for i, ex in enumerate(examples) if i in eval_idx]


def check_eval_fraction(eval_fraction: float) -> None:
    if not 0 <= eval_fraction < 1:
        raise TuningError(f"eval_fraction must be in [0, 1), got {eval_fraction}")


def _components(examples: list[Example], groups: list[list[int]]) -> list[list[int]]:
    """Indices joined by same text or a shared group, as lists in file order (union-find)."""
    parent = list(range(len(examples)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(idx: list[int]) -> None:
        for j in idx[1:]:
            parent[find(j)] = find(idx[0])

    by_line: dict[int, list[int]] = {}
    for i, ex in enumerate(examples):
        by_line.setdefault(ex.source_line, []).append(i)
    for group in exact_duplicate_groups(examples) + groups:
        join([i for line in group for i in by_line.get(line, [])])
    comps: dict[int, list[int]] = {}
    for i in range(len(examples)):
        comps.setdefault(find(i), []).append(i)
    return list(comps.values())
