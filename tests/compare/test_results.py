"""Results: metrics computed from hand-made answers, loading, and finding the
comparison launched from the same advisor answers."""
from __future__ import annotations

import json

import pytest

from compare import CompareError, answers_key, find_comparison, load_results
from compare.costs import arm_cost, break_evens, usd_for_seconds
from compare.records import AnswerRecord, EvalItem, Forgetting, QuestionHits, Retrieval
from compare.results import CostFigures, Results, read_side_by_side
from compare.stages.results import arm_metrics

EVAL = [EvalItem(id=0, question="q0", reference="Paris", source_line=1),
        EvalItem(id=1, question="q1", reference="the red car", source_line=2)]


def _answers(*texts, latency=(0.1, 0.3)):
    return {i: AnswerRecord(id=i, answer=t, latency_s=latency[i], prompt_tokens=10, new_tokens=4)
            for i, t in enumerate(texts)}


def _retrieval(*hits):
    return Retrieval(k=3, hit_definition="d", documents=[], index_seconds=1.0, chunks=2,
                     questions=[QuestionHits(id=i, hit=h, hits=[]) for i, h in enumerate(hits)])


def test_arm_metrics_from_known_answers():
    retrieval = _retrieval(1.0, 0.0)
    m = arm_metrics("rag", EVAL, _answers("paris.", "a red bike"), retrieval, None, 0.5)
    assert m.exact_match == 0.5  # "paris." == "Paris" after normalisation; the second is not equal
    assert m.answer_correct == 0.5  # "paris." states Paris; "a red bike" is not "the red car"
    # both answers as long as their references: [paris] / [paris], [red, bike] / [red, car]
    assert (m.format_match.score, m.format_match.exact_match, m.format_match.length_ratio_median) == (1.0, 0.5, 1.0)
    # token F1: 1.0 and [red, bike] vs [red, car] -> 0.5; mean 0.75. ROUGE-L the same here.
    assert m.token_f1 == pytest.approx(0.75) and m.rouge_l == pytest.approx(0.75)
    assert m.hit_at_k == 0.5 and m.k == 3
    assert m.latency_p50_s == pytest.approx(0.2) and m.latency_p95_s == pytest.approx(0.29)
    assert m.generated_tokens == 8 and m.cost_per_1k_queries_usd == 0.5
    assert m.perplexity_before is None


def test_a_long_right_answer_is_correct_but_out_of_form():
    m = arm_metrics("base", EVAL, _answers("The capital is Paris, of course.", "It is the red car."), None, None, None)
    assert m.answer_correct == 1.0 and m.exact_match == 0.0
    # [capital, is, paris, of, course] / [paris] = 5; [it, is, red, car] / [red, car] = 2: median 3.5
    assert m.format_match.length_ratio_median == 3.5
    assert m.format_match.score == pytest.approx((1 / 5 + 2 / 4) / 2)


SQL_ITEMS = [EvalItem(id=i, question=f"q{i}", reference=ref, source_line=i + 1) for i, ref in enumerate([
    "SELECT COUNT(*) FROM employees WHERE department = 'Sales';",
    "SELECT name FROM products ORDER BY price DESC LIMIT 1;",
    "SELECT SUM(total) FROM orders;"])]


def test_prose_as_long_as_the_queries_is_out_of_their_form():
    """Found reading a shop_sql run: answers in prose about as long as the SQL references scored
    0.62 format match and the paragraph said "in your format". References that share an opening
    word (SELECT) make it part of the form."""
    prose = arm_metrics("base", SQL_ITEMS, _answers(
        "Sales is a company that sells goods, so 100 employees work there.",
        "The most expensive product is the deluxe kettle at 99 euros.",
        "The total of all orders is 12,345 euros.", latency=(0.1, 0.2, 0.3)), None, None, None)
    assert prose.format_match.opening == "select" and prose.format_match.opening_share == 0.0
    assert prose.format_match.score == 0.0
    assert 0.5 < prose.format_match.length_ratio_median < 2  # as long as the queries: length alone says "in form"
    queries = arm_metrics("finetuned", SQL_ITEMS, _answers(
        "SELECT COUNT(*) FROM employees WHERE name = 'Sales';", "```sql\nselect name from products\n```",
        "The total is 12,345.", latency=(0.1, 0.2, 0.3)), None, None, None)
    assert queries.format_match.opening_share == pytest.approx(2 / 3)  # a fenced query opens with select too
    assert queries.format_match.score >= 0.5 > prose.format_match.score


def test_facts_share_no_opening_word_and_keep_the_length_rule():
    m = arm_metrics("base", EVAL, _answers("Paris", "the red car"), None, None, None)
    assert m.format_match.opening is None and m.format_match.opening_share is None
    assert m.format_match.score == 1.0


def test_the_retrieval_split_counts_hits_against_right_answers():
    from compare.stages.results import retrieval_split

    split = retrieval_split([1, 1, 0, 1, 0], [1, 0, 1, 1, 0], "answer_correct")
    assert (split.hit_correct, split.hit_wrong, split.miss_correct, split.miss_wrong) == (2, 1, 1, 1)


def test_missing_answers_score_zero_and_no_retrieval_for_base():
    m = arm_metrics("base", EVAL, _answers("Paris"), _retrieval(), None, None)
    assert m.exact_match == 0.5 and m.hit_at_k is None


def test_forgetting_only_on_fine_tuned_arms():
    forgetting = Forgetting(perplexity_before=10.0, perplexity_after=12.0, change_pct=20.0, texts=1, source="s",
                            base_precision="none")
    assert arm_metrics("finetuned", EVAL, _answers("x", "y"), None, forgetting, None).perplexity_after == 12.0
    assert arm_metrics("base", EVAL, _answers("x", "y"), None, forgetting, None).perplexity_after is None


def _results(tmp_path) -> Results:
    arms = {a: arm_metrics(a, EVAL, _answers("Paris", "red bus"), None, None, None) for a in ("base", "finetuned")}
    # 0.2 and 0.1 GPU-seconds a query, 36 s of training, at $2/h
    costs = [arm_cost("base", usd_for_seconds(0.2, 2.0), {}),
             arm_cost("finetuned", usd_for_seconds(0.1, 2.0), {"train": usd_for_seconds(36, 2.0)})]
    return Results(run_dir=str(tmp_path), model="m", data="d.jsonl", train_examples=8, eval_examples=2, seed=1, k=3,
                   arms=arms, costs=CostFigures(gpu="A100 80GB", usd_per_hour=2.0, basis="b",
                                                arms={c.arm: c for c in costs}, break_even=break_evens(costs)))


def test_load_results_from_folder_or_file(tmp_path):
    with pytest.raises(CompareError, match="has the run finished"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text(_results(tmp_path).model_dump_json())
    assert load_results(tmp_path).arms["base"].exact_match == 0.5
    assert load_results(tmp_path / "results.json").eval_examples == 2
    (tmp_path / "results.json").write_text("{oops")
    with pytest.raises(CompareError, match="not valid JSON"):
        load_results(tmp_path)


def test_the_report_accepts_results(tmp_path):
    from advisor import Answers, recommend
    from advisor.report import render_report

    (tmp_path / "results.json").write_text(_results(tmp_path).model_dump_json())
    answers = Answers()
    md = render_report(answers, recommend(answers), "md", comparison=load_results(tmp_path)).decode()
    assert "Comparison" in md and "| Fine-tuned |" in md  # the arms by their titles (compare.spec.ARM_TITLES)
    assert b"| Fine-tuned |" in render_report(answers, recommend(answers), "md", comparison=tmp_path)


def test_find_comparison_for_the_same_answers(tmp_path):
    from advisor import Answers

    answers, other = Answers(labeled_examples=100), Answers(labeled_examples=200)
    assert answers_key(answers) == answers_key(answers.model_dump()) != answers_key(other)
    run = tmp_path / "r1"
    run.mkdir()
    (run / "spec.json").write_text(json.dumps({"kind": "compare", "answers_key": answers_key(answers)}))
    assert find_comparison(tmp_path, answers) is None  # not finished
    (run / "results.json").write_text("{}")
    assert find_comparison(tmp_path, answers) == run
    assert find_comparison(tmp_path, other) is None


def test_side_by_side_rows(tmp_path):
    (tmp_path / "answers.jsonl").write_text(json.dumps(
        {"id": 0, "question": "q", "reference": "r", "answers": {"base": "a", "rag": "b"}}) + "\n")
    assert read_side_by_side(tmp_path) == [{"question": "q", "reference": "r", "base": "a", "rag": "b"}]
    assert read_side_by_side(tmp_path / "nowhere") == []
