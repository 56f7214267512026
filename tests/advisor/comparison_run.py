"""A finished comparison run made of the comparison's own objects (no model): ten held-out SQL
questions answered by the four arms, scored by execution accuracy, priced, with the evidence
paragraph; written as a real run folder (spec.json, status.json, results.json)."""
from __future__ import annotations

import time
from pathlib import Path

from compare.costs import arm_cost, break_evens, usd_for_seconds
from compare.evidence import summarize_evidence
from compare.ranking import MainMetric
from compare.records import AnswerRecord, EvalItem, QuestionHits, Retrieval
from compare.results import RESULTS_FILE, CostFigures, Results, answers_key
from compare.scoring.results import AnswerScore, summarize
from compare.spec import ARMS, AdvisedArm, CompareSpec
from compare.stages.results import arm_metrics
from runs import create_run, update_status

N = 10
REFERENCE = "SELECT name FROM users WHERE id = {i}"
EVAL = [EvalItem(id=i, question=f"name of user {i}?", reference=REFERENCE.format(i=i), source_line=i + 1)
        for i in range(N)]
# Per arm: how many of the ten queries return the reference's rows (execution accuracy), the
# mean latency per query (s) and the one-off work (s) the arm needs.
RIGHT = {"base": 0, "fewshot": 2, "rag": 5, "finetuned": 6, "finetuned_rag": 10}
LATENCY_S = {"base": 0.2, "fewshot": 0.3, "rag": 0.5, "finetuned": 0.2, "finetuned_rag": 0.5}
FIXED_S = {"base": {}, "fewshot": {}, "rag": {"index": 36.0}, "finetuned": {"train": 3600.0},
           "finetuned_rag": {"index": 36.0, "train": 3600.0}}
USD_PER_HOUR = 2.0
ADVISED = AdvisedArm(approach="lora", combine_with=["rag"], headline="LoRA fine-tuning + RAG for the facts")
NOTE = "base and rag answer with the base in its usual precision"


def _answers(arm: str) -> dict[int, AnswerRecord]:
    return {i: AnswerRecord(id=i, answer=REFERENCE.format(i=i) if i < RIGHT[arm] else "SELECT *",
                            latency_s=LATENCY_S[arm], prompt_tokens=40, new_tokens=9) for i in range(N)}


def _scores(arm: str) -> list[AnswerScore]:
    return [AnswerScore(score=1.0, status="ok") if i < RIGHT[arm] else
            AnswerScore(score=0.0, status="error", error="column missing") if arm == "base" and i == 0 else
            AnswerScore(score=0.0, status="ok") for i in range(N)]


def comparison_results(run_dir: Path, arms: tuple[str, ...] = ("finetuned_rag", "base", "rag", "finetuned"),
                       evidence: bool = True) -> Results:
    """The Results of the run; `arms` in the order given (the report must not keep it)."""
    retrieval = Retrieval(k=3, hit_definition="the passage names the table", documents=["schema.sql"],
                          index_seconds=36.0, chunks=4,
                          questions=[QuestionHits(id=i, hit=float(i < 8), hits=[]) for i in range(N)])
    costs = {a: arm_cost(a, usd_for_seconds(LATENCY_S[a], USD_PER_HOUR),
                         {k: usd_for_seconds(v, USD_PER_HOUR) for k, v in FIXED_S[a].items()}) for a in arms}
    metrics = {}
    for a in arms:
        metrics[a] = arm_metrics(a, EVAL, _answers(a), retrieval, None, costs[a].per_1k_queries_usd)
        metrics[a].scores = {"sql-exec": summarize(_scores(a))}
    results = Results(
        run_dir=str(run_dir), model="HuggingFaceTB/SmolLM2-135M-Instruct", data="qa.jsonl", train_examples=40,
        eval_examples=N, seed=42, k=3, arms=metrics, scorers=["sql-exec"], notes=[NOTE],
        costs=CostFigures(gpu="A100 80GB", usd_per_hour=USD_PER_HOUR, basis="Each query is billed its latency.",
                          arms=costs, break_even=break_evens(list(costs.values()))),
    )
    if evidence:
        per_question = {a: [s.score for s in _scores(a)] for a in ARMS if a in arms}
        main = MainMetric(metric="sql-exec", label="execution accuracy", rule="The arms are ranked by execution "
                          "accuracy, your task scorer.", binary=True, per_question=per_question)
        results.evidence = summarize_evidence(results, main, ADVISED)
    return results


def write_comparison_run(runs_root: Path, name: str, answers=None, created_at: float | None = None,
                         state: str = "completed", arms: tuple[str, ...] = ARMS) -> Path:
    """A comparison run folder under `runs_root` of `arms`, launched from `answers` when given."""
    run_dir = runs_root / name
    spec = CompareSpec(
        data=runs_root / "qa.jsonl",
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        output=run_dir,
        arms=arms,
        answers_key=answers_key(answers) if answers is not None else None,
        advised=ADVISED,
    )
    create_run(spec, run_dir)
    update_status(run_dir, state=state, created_at=created_at or time.time())
    if state == "completed":
        (run_dir / RESULTS_FILE).write_text(comparison_results(run_dir, arms).model_dump_json(indent=2))
    return run_dir
