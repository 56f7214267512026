"""Exact duplicates (same text after collapsing whitespace) and near-duplicates (embedding cosine
similarity >= a threshold, 0.9 by default: seed 004 "remove examples with cosine similarity above
0.9 to any other example"), with the offline all-MiniLM-L6-v2 from `rag_baseline.embeddings`."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from tuning.data.schemas import Example


def text_key(example: Example) -> str:
    """What 'exactly the same' means: the whole example's text, whitespace runs collapsed."""
    return " ".join(example.text().split())


def exact_duplicate_groups(examples: list[Example]) -> list[list[int]]:
    """Groups (of 2 or more) of source lines whose examples have the same text, in file order."""
    by_key: dict[str, list[int]] = {}
    for ex in examples:
        by_key.setdefault(text_key(ex), []).append(ex.source_line)
    return [lines for lines in by_key.values() if len(lines) > 1]


def near_duplicate_pairs(
    examples: list[Example],
    threshold: float = 0.9,
    *,
    embed: Callable[[list[str]], list[list[float]]] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    block_rows: int = 1024,
) -> list[tuple[int, int, float]]:
    """(line_a, line_b, cosine) for every pair of different texts with cosine >= threshold.

    Exact duplicates are embedded once (they are reported as exact, not as near). The similarity
    matrix is computed in blocks of `block_rows` rows so memory stays ~block_rows x n floats.
    """
    first: dict[str, int] = {}  # text -> source line of its first occurrence
    for ex in examples:
        first.setdefault(text_key(ex), ex.source_line)
    if len(first) < 2:
        return []
    import numpy as np

    if embed is None:
        from rag_baseline.embeddings import embed as embed_texts  # lazily: sentence_transformers takes ~10 s

        embed = partial(embed_texts, on_progress=on_progress)
    lines = list(first.values())
    vectors = np.asarray(embed(list(first)), dtype=np.float32)  # unit-normalised: cosine = dot
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, len(lines), block_rows):
        sims = vectors[start : start + block_rows] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist()):
            i = start + r
            if c > i:  # upper triangle: each pair once, never an example with itself
                pairs.append((lines[i], lines[c], round(float(sims[r, c]), 4)))
    return sorted(pairs)
