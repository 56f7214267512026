"""The statistics against values worked out by hand."""
from __future__ import annotations

import itertools
import math

import pytest

from compare.stats import mcnemar_exact, paired_bootstrap, quantile, questions_needed


@pytest.mark.parametrize("a_only, b_only, expected", [
    (5, 1, 2 * (1 + 6) / 64),  # d = 6, rarer side 1: 2 * (C(6,0) + C(6,1)) / 2^6 = 0.21875
    (8, 0, 2 / 256),  # all 8 one way: 2 * 1/2^8
    (3, 3, 1.0),  # balanced: capped at 1
    (0, 0, 1.0),  # no disagreement
    (10, 2, 2 * (1 + 12 + 66) / 4096),  # 0.03857
])
def test_mcnemar_exact_matches_the_binomial_by_hand(a_only, b_only, expected):
    both, neither = 4, 3
    a = [1] * a_only + [0] * b_only + [1] * both + [0] * neither
    b = [0] * a_only + [1] * b_only + [1] * both + [0] * neither
    assert mcnemar_exact(a, b) == pytest.approx(expected)
    assert mcnemar_exact(b, a) == pytest.approx(expected)  # two-sided


def test_mcnemar_refuses_scores_that_are_not_zero_or_one():
    with pytest.raises(ValueError, match="0/1"):
        mcnemar_exact([0.5, 1], [0, 1])


def test_the_bootstrap_of_constant_differences_is_that_constant():
    assert paired_bootstrap([0.7] * 6, [0.2] * 6) == pytest.approx((0.5, 0.5, 0.5))


def test_the_bootstrap_interval_matches_the_exact_bootstrap_distribution():
    # n = 5 differences: every one of the 5^5 equally likely resamples, enumerated, gives the exact
    # bootstrap distribution of the mean; the seeded Monte Carlo interval must land on its quantiles.
    diffs = [1.0, 0.0, 1.0, -1.0, 1.0]
    exact = sorted(sum(diffs[i] for i in idx) / 5 for idx in itertools.product(range(5), repeat=5))
    low, high = quantile(exact, 0.025), quantile(exact, 0.975)
    # By hand: a draw is 1 (p 3/5), 0 or -1 (p 1/5 each); of the 3125 resamples, 31 sum to -3 or less and
    # 101 to -2 or less, so the 2.5% quantile (rank 78) is a sum of -2, a mean of -0.4; 2882 sum to 4 or
    # less, so the 97.5% quantile (rank 3046) is the sum 5, a mean of 1.
    assert (low, high) == (-0.4, 1.0)
    mean, mc_low, mc_high = paired_bootstrap(diffs, [0.0] * 5, resamples=4000, seed=3)
    assert mean == pytest.approx(0.4)
    assert (mc_low, mc_high) == (pytest.approx(low, abs=0.2), pytest.approx(high))  # resample means step by 0.2


def test_the_bootstrap_is_reproducible_and_close_to_the_normal_interval_on_many_questions():
    a = [1.0 if i % 3 else 0.0 for i in range(600)]
    b = [1.0 if i % 2 else 0.0 for i in range(600)]
    first, second = paired_bootstrap(a, b, seed=7), paired_bootstrap(a, b, seed=7)
    assert first == second
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    mean = sum(diffs) / 600
    se = math.sqrt(sum((d - mean) ** 2 for d in diffs) / 599 / 600)
    assert first[1] == pytest.approx(mean - 1.96 * se, abs=0.01) and first[2] == pytest.approx(
        mean + 1.96 * se, abs=0.01
    )


def test_questions_needed_by_hand():
    # differences 0.5, 0, 0.5, 0: mean 0.25, sd sqrt(1/12) = 0.2887; ((1.96 + 0.8416) * 0.2887 / 0.25)^2 = 10.47 -> 11
    assert questions_needed([0.5, 0, 0.5, 0], [0, 0, 0, 0]) == 11
    # 0/1 scores, Connor (1987): 5 wins and no loss in 10, p_d = 0.5, d = 0.5:
    # (1.96 * sqrt(0.5) + 0.8416 * sqrt(0.5 - 0.25))^2 / 0.25 = 1.8067^2 / 0.25 = 13.06 -> 14
    assert questions_needed([1] * 5 + [0] * 5, [0] * 10) == 14
    assert questions_needed([1, 0], [1, 0]) is None  # no difference: no number of questions separates them
    assert questions_needed([1, 1, 1], [0, 0, 0]) is None  # no spread: any number does


def test_paired_scores_must_cover_the_same_questions():
    with pytest.raises(ValueError, match="same questions"):
        paired_bootstrap([1, 0], [1])
