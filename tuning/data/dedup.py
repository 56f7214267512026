"""Exact duplicates (same text after collapsing whitespace) and near-duplicates (embedding cosine
similarity >= a threshold, 0.9 by default, the threshold the advisor's source "Model Fine-Tuning
(enterprise AI glossary entry)", advisor/sources.json, gives for removing near-duplicate examples),
with the offline all-MiniLM-L6-v2 from `lm.embeddings`."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from tuning.data.schemas import Example

# Near-duplicates cost an embedding per distinct text plus a dot product per pair. Measured on the
# project's 2-core CPU with other work on it (load average ~5), all-MiniLM-L6-v2 in float32 on
# sql-eval rows (question + query, ~315 characters): 10-12.5 examples/s (210 and 420 rows, after the
# model's ~8 s start); a quiet machine is 2-3 times faster. The similarity blocks ran at 60-69 M
# pairs/s (n x n products, 20,000 and 40,000 random unit vectors). 1M examples: ~23 h + ~4.6 h.
NEAR_DUP_EXAMPLES_PER_S = 12.0
NEAR_DUP_PAIRS_PER_S = 60e6
NEAR_DUP_WARN_S = 60.0  # an expected time above this is said before the check starts
NEAR_DUP_MAX_EXAMPLES = 20_000  # ~28 min at the rate above; more are not checked (and it is said)


def text_key(example: Example) -> str:
    """What 'exactly the same' means: the whole example's text, whitespace runs collapsed."""
    return " ".join(example.text().split())


def exact_duplicate_groups(examples: list[Example]) -> list[list[int]]:
    """Groups (of 2 or more) of source lines whose examples have the same text, in file order."""
    by_key: dict[str, list[int]] = {}
    for ex in examples:
        by_key.setdefault(text_key(ex), []).append(ex.source_line)
    return [lines for lines in by_key.values() if len(lines) > 1]


def distinct_texts(examples: list[Example]) -> int:
    """How many different texts the near-duplicate check would embed (exact copies once)."""
    return len({text_key(ex) for ex in examples})


def near_dup_seconds(distinct: int) -> float:
    """The expected time of the near-duplicate check on this project's 2 busy CPU cores."""
    return (
        distinct / NEAR_DUP_EXAMPLES_PER_S + distinct**2 / NEAR_DUP_PAIRS_PER_S
    )  # the blocks compute every pair twice


def near_dup_notice(distinct: int) -> str | None:
    """What to say before the near-duplicate check of `distinct` texts: nothing when it is quick,
    its expected time when it is long, or that it is skipped above NEAR_DUP_MAX_EXAMPLES."""
    seconds = near_dup_seconds(distinct)
    rate = f"at ~{NEAR_DUP_EXAMPLES_PER_S:.0f} examples/s on 2 CPU cores"
    if distinct > NEAR_DUP_MAX_EXAMPLES:
        return (f"near-duplicates not checked: {distinct:,} distinct examples would take about {_duration(seconds)} "
                f"{rate} (the check stops at {NEAR_DUP_MAX_EXAMPLES:,}); exact duplicates were checked")
    if seconds > NEAR_DUP_WARN_S:
        return (f"near-duplicate check: {distinct:,} distinct examples, about {_duration(seconds)} {rate} "
                "(switch the near-duplicate check off to skip it)")
    return None


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


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
        from lm.embeddings import embed as embed_texts  # lazily: sentence_transformers takes ~10 s

        embed = partial(embed_texts, on_progress=on_progress)
    lines = list(first.values())
    vectors = np.asarray(embed(list(first)), dtype=np.float32)  # unit-normalised: cosine = dot
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, len(lines), block_rows):
        sims = vectors[start : start + block_rows] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if c > i:  # upper triangle: each pair once, never an example with itself
                pairs.append((lines[i], lines[c], round(float(sims[r, c]), 4)))
    return sorted(pairs)
