"""The evidence paragraph: the metric and why, both axes per arm (right answers, form), the winner
and how sure (paired bootstrap, McNemar), the retrieval split, costs, and the advisor's agreement."""
from __future__ import annotations

import pytest

from compare.costs import arm_cost, break_evens, usd_for_seconds
from compare.evidence import summarize_evidence
from compare.ranking import MainMetric
from compare.results import ArmMetrics, CostFigures, FormatMatch, Results, RetrievalSplit
from compare.spec import AdvisedArm


def _arm(name: str, ratio: float | None = 1.0, split: RetrievalSplit | None = None) -> ArmMetrics:
    return ArmMetrics(arm=name, questions=0, exact_match=0, token_f1=0, rouge_l=0, latency_p50_s=0, latency_p95_s=0,
                      latency_mean_s=0, generated_tokens=0, generated_tokens_mean=0, retrieval_split=split,
                      format_match=FormatMatch(score=0, exact_match=0, length_ratio_median=ratio))


def _results(n: int, arms: dict[str, ArmMetrics] | None = None, costs: CostFigures | None = None) -> Results:
    return Results(run_dir="r", model="m", data="d", train_examples=10, eval_examples=n, seed=0, k=3,
                   arms=arms or {}, costs=costs)


def _correct(per_q: dict[str, list[float]]) -> MainMetric:
    return MainMetric(metric="answer_correct", label="correct answers", rule="Ranked by correct answers.",
                      binary=True, per_question=per_q)


def test_answers_that_do_not_open_as_the_references_do_are_not_in_their_form():
    prose = _arm("base", 1.3)
    prose.questions = 23
    prose.format_match.opening, prose.format_match.opening_share = "select", 0.0
    queries = _arm("finetuned_rag", 1.0)
    queries.questions = 23
    queries.format_match.opening, queries.format_match.opening_share = "select", 1.0
    main = MainMetric(metric="sql_exec", label="execution accuracy", rule="Ranked by execution accuracy.",
                      binary=True, per_question={"base": [0.0] * 23, "finetuned_rag": [1.0] * 10 + [0.0] * 13})
    paragraph = summarize_evidence(_results(23, {"base": prose, "finetuned_rag": queries}), main).paragraph
    assert ("Base model (zero-shot) passes execution accuracy on 0 of 23, mostly not in your form (0 of 23 open "
            "with 'select' as your references do)") in paragraph
    assert "Fine-tuned + RAG (hybrid) passes execution accuracy on 10 of 23, in your format" in paragraph


def test_the_paragraph_names_both_axes_and_calls_a_learned_form_what_it_is():
    # The issue's case: RAG right 10 of 12 in long sentences; the bare fine-tune in the references'
    # form but never right; the hybrid both.
    per_q = {"rag": [1.0] * 10 + [0.0] * 2, "finetuned": [0.0] * 12, "finetuned_rag": [1.0] * 11 + [0.0]}
    arms = {"rag": _arm("rag", 6.2), "finetuned": _arm("finetuned", 1.0), "finetuned_rag": _arm("finetuned_rag", 1.3)}
    ev = summarize_evidence(_results(12, arms), _correct(per_q))
    assert ("Base + RAG answers 10 of 12 correctly, in answers about 6x longer than your references; "
            "Fine-tuned answers 0 of 12 correctly, in your format (it learned the form, not the facts); "
            "Fine-tuned + RAG (hybrid) answers 11 of 12 correctly, in your format.") in ev.paragraph
    assert ev.paragraph.startswith("Ranked by correct answers.")
    assert ev.best_arm == "finetuned_rag" and ev.ranked


def test_how_sure_a_winner_is_paired_bootstrap_mcnemar_and_questions_needed():
    per_q = {"base": [0.0] * 10, "rag": [1.0] * 9 + [0.0], "finetuned_rag": [1.0] * 10}
    ev = summarize_evidence(_results(10), _correct(per_q))
    assert ev.best_arm == "finetuned_rag" and ev.scores == {"base": 0.0, "rag": 0.9, "finetuned_rag": 1.0}
    base, rag = ev.versus_best["base"], ev.versus_best["rag"]
    assert (base.difference, base.ci_low, base.ci_high, base.clear) == (1.0, 1.0, 1.0, True)
    assert base.mcnemar_p == pytest.approx(2 / 2**10)  # 10 discordant, all one way
    assert rag.difference == pytest.approx(0.1) and rag.ci_low == 0.0 and not rag.clear
    assert rag.mcnemar_p == 1.0  # one discordant question: 2 * 1/2
    # Connor (1987), p_d = d = 0.1: (1.96 * sqrt(0.1) + 0.8416 * sqrt(0.09))^2 / 0.01 = 76.1 -> 77
    assert rag.questions_needed == 77
    assert ev.clear_over == {"base": True, "rag": False}
    assert "within the noise: about 77 questions would separate them" in ev.paragraph
    assert (
        "ahead of Base model (zero-shot) by 1.00 (95% interval +1.00 to +1.00, McNemar p = 0.002; beyond the noise)"
        in ev.paragraph
    )


def test_arms_beaten_by_the_same_figures_share_one_clause():
    per_q = {"base": [0.0] * 10, "fewshot": [0.0] * 10, "finetuned_rag": [1.0] * 10}
    ev = summarize_evidence(_results(10), _correct(per_q))
    assert ("ahead of Base model (zero-shot) and Few-shot prompting by 1.00 each (95% interval +1.00 to +1.00, "
            "McNemar p = 0.002; beyond the noise).") in ev.paragraph


def test_when_every_arm_scores_zero_nothing_is_named_best():
    per_q = {"base": [0.0] * 5, "rag": [0.0] * 5, "finetuned": [0.0] * 5}
    main = MainMetric(metric="sql-exec", label="execution accuracy", rule="Ranked by execution accuracy.",
                      binary=True, per_question=per_q)
    advised = AdvisedArm(approach="rag", headline="RAG")
    ev = summarize_evidence(_results(5), main, advised)
    assert ev.best_arm is None and not ev.ranked and ev.versus_best == {}
    assert "Execution accuracy is 0.00 for every arm, so nothing could be ranked on it" in ev.paragraph
    assert "ranks first" not in ev.paragraph
    assert ev.verdict == "undecided" and "the evidence cannot tell" in ev.paragraph


@pytest.mark.parametrize("approach, combine, verdict", [
    ("rag", [], "agrees"),  # within the noise of the best: agreeing is the honest reading
    ("prompting", [], "disagrees"),  # prompting is the few-shot arm
    ("lora", ["rag"], "agrees"),  # the hybrid
])
def test_agreement_with_the_advisor(approach, combine, verdict):
    per_q = {"base": [0.0] * 10, "fewshot": [0.0] * 10, "rag": [1.0] * 9 + [0.0], "finetuned_rag": [1.0] * 10}
    advised = AdvisedArm(approach=approach, combine_with=combine, headline=f"{approach} advice")
    ev = summarize_evidence(_results(10), _correct(per_q), advised)
    assert (
        ev.verdict == verdict and f"The advisor recommended {approach} advice; the evidence {verdict}" in ev.paragraph
    )


def test_advice_whose_arm_did_not_run_is_not_judged():
    ev = summarize_evidence(_results(4), _correct({"base": [0, 1, 0, 0], "rag": [1, 1, 1, 0]}),
                            AdvisedArm(approach="prompting", headline="prompting"))
    assert ev.verdict == "not run" and "its arm (Few-shot prompting) did not run" in ev.paragraph


def test_the_retrieval_split_says_whether_the_retriever_or_the_model_lost_the_misses():
    split = RetrievalSplit(hit_correct=10, hit_wrong=2, miss_correct=0, miss_wrong=0)
    ev = summarize_evidence(_results(12, {"rag": _arm("rag", split=split), "base": _arm("base")}),
                            _correct({"base": [0.0] * 12, "rag": [1.0] * 10 + [0.0] * 2}))
    assert ("The retriever found the answer's passage for 12 of 12 questions; Base + RAG used it in 10: the model, "
            "not the retriever, lost most wrong answers.") in ev.paragraph


def test_costs_of_the_winner_and_the_runner_up_with_their_break_even():
    # rag: 0.5 s/query, 36 s of indexing; the hybrid: 0.25 s/query, 36 s + 1 h of training, at $2/h.
    usd = lambda seconds: usd_for_seconds(seconds, 2.0)  # noqa: E731
    arms = {"rag": arm_cost("rag", usd(0.5), {"index": usd(36)}),
            "finetuned_rag": arm_cost("finetuned_rag", usd(0.25), {"index": usd(36), "train": usd(3600)})}
    costs = CostFigures(
        gpu="A100 80GB", usd_per_hour=2.0, basis="b", arms=arms, break_even=break_evens(list(arms.values()))
    )
    ev = summarize_evidence(_results(4, costs=costs), _correct({"rag": [0, 0, 1, 0], "finetuned_rag": [1, 1, 1, 1]}))
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
    ev = summarize_evidence(results, _correct({"base": [0.0] * 10, "finetuned": [1.0] * 5 + [0.0] * 5}))
    assert ("Fine-tuned trained 30 of 84 steps (a step limit stopped it before the epochs): "
            "more training may score higher.") in ev.paragraph
    assert "hybrid) trained" not in ev.paragraph  # it ran its epochs
