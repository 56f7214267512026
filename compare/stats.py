"""How sure a comparison can be that one arm beats another on the same questions.

Every arm answers the same held-out questions, so arms are compared *paired*: per question, the
difference of the two scores.

- `paired_bootstrap`: the mean difference and its 95% percentile interval from resampling the
  questions with replacement (Efron & Tibshirani 1993, ch. 13; lm-evaluation-harness uses the same
  percentile bootstrap for its stderr). Seeded, so a run's interval is reproducible.
- `mcnemar_exact`: for 0/1 scores, the exact (binomial) McNemar test on the questions where the two
  arms disagree: under "no difference" each disagreement goes either way with probability 1/2
  (McNemar 1947; the exact form as in statsmodels' `mcnemar(exact=True)`), two-sided.
- `questions_needed`: how many questions a paired comparison needs to separate two arms at the
  observed difference, at 5% two-sided significance and 80% power: for 0/1 scores McNemar's sample
  size (Connor 1987, Biometrics 43:207: n = (z_0.975 sqrt(p_d) + z_0.8 sqrt(p_d - d^2))^2 / d^2, p_d
  the share of questions where the two disagree, d the difference), else the paired normal
  approximation n = ((z_0.975 + z_0.8) * sd / |mean|)^2.

Pure Python: a few thousand resamples of at most a few thousand questions.
"""
from __future__ import annotations

import math
import random
from collections.abc import Sequence

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
Z_TWO_SIDED_5PCT = 1.959964  # the normal's 97.5th percentile
Z_POWER_80PCT = 0.841621  # the normal's 80th percentile


def _differences(a: Sequence[float], b: Sequence[float]) -> list[float]:
    if len(a) != len(b):
        raise ValueError(f"paired scores need the same questions: {len(a)} against {len(b)}")
    return [x - y for x, y in zip(a, b, strict=True)]


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile with linear interpolation between closest ranks (numpy's default)."""
    rank = q * (len(sorted_values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = 0, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean of a - b, low, high): the percentile interval of the mean difference over `resamples`
    resamplings of the questions (with replacement, the pairs kept together)."""
    diffs = _differences(a, b)
    n = len(diffs)
    if n == 0:
        raise ValueError("a paired bootstrap needs at least one question")
    rng = random.Random(seed)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    return sum(diffs) / n, quantile(means, tail), quantile(means, 1 - tail)


def mcnemar_exact(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided exact McNemar p-value for paired 0/1 scores: with d discordant questions of which
    the rarer direction has m, p = min(1, 2 * P(Binomial(d, 1/2) <= m)); 1.0 with none."""
    diffs = _differences(a, b)
    if any(x not in (0, 1) for x in (*a, *b)):
        raise ValueError("McNemar's test needs 0/1 scores")
    a_only = sum(1 for d in diffs if d > 0)
    b_only = sum(1 for d in diffs if d < 0)
    discordant = a_only + b_only
    if discordant == 0:
        return 1.0
    tail = sum(math.comb(discordant, i) for i in range(min(a_only, b_only) + 1)) / 2**discordant
    return min(1.0, 2 * tail)


def questions_needed(a: Sequence[float], b: Sequence[float]) -> int | None:
    """Questions a paired comparison would need to separate a from b at their observed difference
    (5% two-sided, 80% power); None when the mean difference is 0 (no number of questions separates
    arms that do not differ) or the differences do not vary (then any number does)."""
    diffs = _differences(a, b)
    n = len(diffs)
    if n < 2:
        return None
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if mean == 0 or sd == 0:
        return None
    if is_binary(a) and is_binary(b):  # Connor (1987)
        disagree = sum(1 for d in diffs if d) / n
        root = Z_TWO_SIDED_5PCT * math.sqrt(disagree) + Z_POWER_80PCT * math.sqrt(disagree - mean**2)
        return math.ceil(root**2 / mean**2)
    return math.ceil(((Z_TWO_SIDED_5PCT + Z_POWER_80PCT) * sd / abs(mean)) ** 2)


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0, 1) for v in values)
