"""The evidence paragraph: the winner, by how much, whether beyond the noise of the questions,
its serving cost, and whether it agrees with the advisor."""
from __future__ import annotations

import pytest

from compare.costs import arm_cost, break_evens, usd_for_seconds
from compare.evidence import paired_noise, summarize_evidence
from compare.results import CostFigures, Results
from compare.spec import AdvisedArm


def _results(n: int, costs: CostFigures | None = None) -> Results:
    return Results(run_dir="r", model="m", data="d", train_examples=10, eval_examples=n, seed=0, k=3, arms={},
                   costs=costs)


def test_paired_noise_is_two_standard_errors_of_the_mean_difference():
    diff, noise = paired_noise([1, 1, 0, 1], [0, 1, 0, 0])  # differences 1, 0, 0, 1: mean 0.5, sd 0.577
    assert diff == pytest.approx(0.5) and noise == pytest.approx(2 * 0.57735 / 2, rel=1e-4)


def test_a_clear_winner_and_a_tie_within_the_noise():
    per_q = {"base": [0.0] * 10, "rag": [1.0] * 9 + [0.0], "finetuned_rag": [1.0] * 10}
    ev = summarize_evidence(_results(10), per_q, "token_f1", "token F1")
    assert ev.best_arm == "finetuned_rag" and ev.scores == {"base": 0.0, "rag": 0.9, "finetuned_rag": 1.0}
    assert ev.clear_over == {"base": True, "rag": False}  # 0.1 better, 2 SE = 0.2: within the noise
    assert "Fine-tuned + RAG (hybrid) scores best on token F1: 1.00" in ev.paragraph
    assert "within the noise of 10 questions" in ev.paragraph and ev.verdict == "no advice"


@pytest.mark.parametrize("approach, combine, verdict", [
    ("rag", [], "agrees"),  # within the noise of the best: agreeing is the honest reading
    ("prompting", [], "disagrees"),
    ("lora", ["rag"], "agrees"),  # the hybrid
])
def test_agreement_with_the_advisor(approach, combine, verdict):
    per_q = {"base": [0.0] * 10, "rag": [1.0] * 9 + [0.0], "finetuned_rag": [1.0] * 10}
    advised = AdvisedArm(approach=approach, combine_with=combine, headline=f"{approach} advice")
    ev = summarize_evidence(_results(10), per_q, "token_f1", "token F1", advised)
    assert ev.verdict == verdict and f"The advisor recommended {approach} advice; the evidence {verdict}" in ev.paragraph


def test_costs_of_the_winner_and_the_runner_up_with_their_break_even():
    # rag: 0.5 s/query, 36 s of indexing; the hybrid: 0.25 s/query, 36 s + 1 h of training, at $2/h.
    usd = lambda seconds: usd_for_seconds(seconds, 2.0)  # noqa: E731
    arms = {"rag": arm_cost("rag", usd(0.5), {"index": usd(36)}),
            "finetuned_rag": arm_cost("finetuned_rag", usd(0.25), {"index": usd(36), "train": usd(3600)})}
    costs = CostFigures(gpu="A100 80GB", usd_per_hour=2.0, basis="b", arms=arms, break_even=break_evens(list(arms.values())))
    ev = summarize_evidence(_results(4, costs), {"rag": [0, 0, 1, 0], "finetuned_rag": [1, 1, 1, 1]},
                            "token_f1", "token F1")
    assert ("costs $0.14 per 1k queries (plus $2.02 once), against $0.28 for Base + RAG (plus $0.02 once)"
            in ev.paragraph)
    # $2 of training repaid at 0.25 s x $2/h = $0.000139 saved per query: 14,400 queries.
    assert "Fine-tuned + RAG (hybrid) costs less than Base + RAG in total after 14,400 queries." in ev.paragraph


def test_an_adapter_stopped_before_its_epochs_is_said_to_be_a_lower_bound():
    from compare.results import TrainingFigures

    results = _results(10)
    results.trainings = {
        "train": TrainingFigures(method="lora", prompts="bare", arms=["finetuned"], steps=30, epoch_steps=84,
                                 train_examples=168, seconds=200.0),
        "train_rag": TrainingFigures(method="lora", prompts="retrieval", arms=["finetuned_rag"], steps=12,
                                     epoch_steps=12, train_examples=48, seconds=300.0),
    }
    ev = summarize_evidence(results, {"base": [0.0] * 10, "finetuned": [0.5] * 10}, "token_f1", "token F1")
    assert ("Fine-tuned trained 30 of 84 steps (a step limit stopped it before the epochs): "
            "more training may score higher.") in ev.paragraph
    assert "hybrid) trained" not in ev.paragraph  # it ran its epochs
