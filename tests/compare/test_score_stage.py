"""The task-aware scorers inside a comparison: the score stage runs sql-exec on a private
PostgreSQL loaded from the documents' dumps, and the results carry each arm's execution accuracy
next to its token F1, every verdict and error in answers.jsonl, and the evidence ranks by it."""
from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

import runs
from cli.compare import spec_from_args
from compare.errors import Cancelled
from compare.pipeline import Pipeline
from compare.plan import BY_NAME
from compare.records import Split
from compare.results import load_results
from tests.compare.scoring.conftest import write_toy_dump
from tests.wait import wait_until

QUESTIONS = [  # (question, reference, the base arm's answer, expected execution accuracy)
    (
        "How many people live in Paris?",
        "SELECT COUNT(*) FROM people WHERE city = 'Paris';",
        "SELECT count(id) FROM people WHERE city='Paris'",
        1.0,
    ),  # spelled differently, same result
    (
        "Who is 25?",
        "SELECT name FROM people WHERE age = 25;",
        "```sql\nSELECT name FROM people WHERE 25 = age\n```",
        1.0,
    ),
    ("Oldest person?", "SELECT name FROM people ORDER BY age DESC LIMIT 1;", "SELECT nme FROM people", 0.0),  # errors
    ("Cities?", "SELECT DISTINCT city FROM people;", "DELETE FROM people", 0.0),  # refused: read-only
] * 2  # 8 rows: 4 train, 4 held out (each reference appears on both sides, which does not matter here)


def _answered_run(tmp_path, model_dir, questions, *flags) -> Pipeline:
    """A run of the base arm on the toy database, split, its answers written: ready to score."""
    docs = tmp_path / "docs"
    docs.mkdir()
    write_toy_dump(docs)
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": q, "query": r, "db": "toy"}) + "\n" for q, r, _, _ in questions))
    from cli.main import build_parser

    args = build_parser().parse_args([
        "compare", "--data", str(data), "--prompt-field", "question", "--completion-field", "query",
        "--docs", str(docs), "--model", str(model_dir), "--arms", "base", "--eval-fraction", "0.5",
        "--scorer", "sql-exec", "--sql-db-field", "db", "--output", str(tmp_path / "run"), *flags])
    spec = spec_from_args(args)
    assert spec.scoring.sql_dumps == [docs / "toy.sql"]  # the .sql documents are the databases
    pipeline = Pipeline(runs.create_run(spec))
    BY_NAME["split"].run(pipeline)
    given = {q: a for q, _, a, _ in questions}
    answers = pipeline.path("answers/base.jsonl")
    answers.parent.mkdir()
    held_out = pipeline.read("split.json", Split).eval
    answers.write_text("".join(json.dumps({"id": row.id, "answer": given[row.question], "latency_s": 0.4,
                                           "batch_size": 4, "prompt_tokens": 10, "new_tokens": 8}) + "\n"
                               for row in held_out))
    return pipeline


@pytest.fixture
def scored_run(tmp_path, tiny_model_dir):
    pipeline = _answered_run(tmp_path, tiny_model_dir, QUESTIONS)
    for stage in ("score", "costs", "results"):
        BY_NAME[stage].run(pipeline)
    return pipeline


def test_execution_accuracy_per_arm_and_per_answer(scored_run):
    results = load_results(scored_run.run_dir)
    rows = [json.loads(x) for x in scored_run.path("answers.jsonl").read_text().splitlines()]
    expected = {q: acc for q, _, _, acc in QUESTIONS}
    base = results.arms["base"].scores["sql-exec"]
    assert base.mean == pytest.approx(sum(expected[r["question"]] for r in rows) / len(rows))
    assert base.errors >= 1 and base.timeouts == 0
    for r in rows:
        assert r["scores"]["base"]["sql-exec"] == expected[r["question"]]
        assert 0 <= r["scores"]["base"]["token_f1"] <= 1  # the string metrics stay beside it
    notes = [r.get("scorer_notes", {}).get("base", {}).get("sql-exec", "") for r in rows]
    assert any("nme" in n for n in notes)  # the error is kept for the reader
    assert results.evidence.metric == "sql-exec" and results.database.embedded and results.database.load_s
    table = scored_run.path("metrics.md").read_text()
    assert "execution accuracy" in table and "private PostgreSQL" in table


def test_a_scorer_that_gives_every_arm_zero_ranks_nothing_and_names_no_winner(scored_run):
    # sql-eval with a 135M model: execution accuracy 0.00 for every arm, so it cannot say which is best.
    pipeline = scored_run
    rows = [json.loads(x) for x in pipeline.path("answers/base.jsonl").read_text().splitlines()]
    wrong = "".join(json.dumps({**row, "answer": "SELECT 42"}) + "\n" for row in rows)
    pipeline.path("answers/base.jsonl").write_text(wrong)
    for name in ("scores.json", "costs.json", "results.json"):
        pipeline.path(name).unlink()
    for stage in ("score", "costs", "results"):
        BY_NAME[stage].run(pipeline)
    evidence = load_results(pipeline.run_dir).evidence
    assert evidence.metric == "sql-exec" and evidence.best_arm is None and not evidence.ranked
    assert evidence.paragraph.startswith("The arms are ranked by execution accuracy, your task scorer. On 4 held-out "
                                         "questions")
    assert "Execution accuracy is 0.00 for every arm, so nothing could be ranked on it" in evidence.paragraph


def test_every_cap_is_said_in_the_answer_note(tmp_path, tiny_model_dir):
    many = "SELECT {id, name, city, age, score, id + 1, age + 1} FROM people WHERE age = 25"  # 127 alternatives
    questions = [(f"Who is 25 ({i})?", many, "SELECT name FROM people WHERE age = 25", 1.0) for i in range(4)]
    pipeline = _answered_run(tmp_path, tiny_model_dir, questions)
    for stage in ("score", "costs", "results"):
        BY_NAME[stage].run(pipeline)
    rows = [json.loads(x) for x in pipeline.path("answers.jsonl").read_text().splitlines()]
    assert {r["scores"]["base"]["sql-exec"] for r in rows} == {1.0}
    assert {r["scorer_notes"]["base"]["sql-exec"] for r in rows} == {
        "the reference lists 127 alternatives: the first 64 were run"}


def _private_servers() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("ftadvisor-pg-*"))


def test_a_cancel_stops_the_score_stage_inside_a_query_and_removes_the_server(tmp_path, tiny_model_dir):
    slow = [(f"Slow {i}?", "SELECT 1;", "SELECT pg_sleep(30)", 0.0) for i in range(4)]
    pipeline = _answered_run(tmp_path, tiny_model_dir, slow, "--sql-timeout", "60")
    before = _private_servers()

    asked_at: list[float] = []

    def a_query_runs() -> bool:
        commands = (" ".join(proc.info["cmdline"] or []) for proc in psutil.process_iter(["cmdline"]))
        return any("ftadvisor_reader" in command and "FETCH" in command for command in commands)

    def cancel_once_a_query_runs():
        try:
            wait_until(a_query_runs, what="reader's query running")
        finally:
            asked_at.append(time.monotonic())
            runs.request_cancel(pipeline.run_dir)

    helper = threading.Thread(target=cancel_once_a_query_runs)
    helper.start()
    try:
        with pytest.raises(Cancelled):
            BY_NAME["score"].run(pipeline)
    finally:
        helper.join()
    assert time.monotonic() - asked_at[0] < 5  # honoured inside the query, which sleeps 30 s
    assert _private_servers() <= before  # its folder went with the stage
    assert not pipeline.path("scores.json").exists()
