"""The entry point the comparison calls: every scorer on every answer, per-scorer summaries, one
database start for several batches, the private server stopped at the end."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from compare.scoring import ScorerSpec, ScoringError, ScoringRow, ScoringSession, score_answers
from compare.scoring.sql_extract import reference_alternatives

REPO = Path(__file__).resolve().parents[3]
PARIS = "SELECT name FROM people WHERE city = 'Paris'"
GRADER = '''
def grade(question, answer, reference, row):
    if answer.startswith("{"):
        raise ValueError("not SQL")
    return float(answer == reference)
'''


def _rows() -> list[ScoringRow]:
    return [
        ScoringRow(question="Who lives in Paris?", answer=PARIS, reference=PARIS, row={"db": "toy"}),
        ScoringRow(question="Who lives in Paris?", answer="SELECT nme FROM people", reference=PARIS, row={"db": "toy"}),
        ScoringRow(question="Brokers?", answer='{"sql": "SELECT 1"}', reference=PARIS, row={"db": "broker"}),
        ScoringRow(question="Slow", answer="SELECT name FROM people, pg_sleep(5)", reference=PARIS, row={"db": "toy"}),
    ]


@pytest.fixture
def spec(pg, tmp_path) -> ScorerSpec:
    (tmp_path / "grader.py").write_text(GRADER)
    # The session server stands in for the user's own PostgreSQL: nothing is loaded.
    return ScorerSpec(names=f"json,sql-exec,python:{tmp_path / 'grader.py'}:grade", sql_db_field="db",
                      sql_url=pg.url_template(), sql_timeout_s=0.5)


def test_every_scorer_scores_every_answer_and_is_summarised(spec):
    result = score_answers(spec, _rows())
    sql = [a["sql-exec"] for a in result.per_answer]
    assert [(s.score, s.status) for s in sql] == [(1.0, "ok"), (0.0, "error"), (None, "excluded"), (0.0, "timeout")]
    summary = result.summaries["sql-exec"]
    assert (summary.mean, summary.scored, summary.errors, summary.timeouts, summary.excluded) == (
        pytest.approx(1 / 3), 3, 1, 1, 1)
    assert result.summaries["json"].model_dump() == {
        "mean": 0.25, "scored": 4, "errors": 3, "timeouts": 0, "excluded": 0, "field_agreement": None}
    grader = result.summaries[spec.user_scorers[0]]
    assert (grader.mean, grader.errors) == (0.25, 1)
    assert result.per_answer[2][spec.user_scorers[0]].error == "the scorer raised ValueError: not SQL"
    assert result.database.embedded is False and result.database.load_s == {}


def test_one_session_scores_several_batches_running_each_reference_once(spec):
    with ScoringSession(spec) as session:
        assert session.server is None  # a sql_url: no private server
        first = session.score(_rows())
        second = session.score(_rows())
    assert first.per_answer == second.per_answer
    # Batch 1: 1 reference + 3 answers (the excluded row runs nothing); batch 2: the 3 answers only.
    assert (first.database.queries, second.database.queries) == (4, 7)


def test_a_missing_database_column_is_one_error(spec):
    rows = [ScoringRow(question="q", answer=PARIS, reference=PARIS, row={"database": "toy"})]
    with pytest.raises(ScoringError, match=r"sql_db_field: no row has a 'db' column \(columns: database\)"):
        score_answers(spec, rows)


def test_the_embedded_server_loads_the_dumps_scores_and_stops(sql_eval):
    dump = sql_eval / "schemas" / "restaurants.sql"
    with open(sql_eval / "questions_gen_postgres.csv", newline="") as f:
        questions = [r for r in csv.DictReader(f) if r["db_name"] == "restaurants"][:5]
    rows = [ScoringRow(question=q["question"], answer=reference_alternatives(q["query"])[0], reference=q["query"],
                       row=q) for q in questions]
    spec = ScorerSpec(names="sql-exec", sql_dumps=[dump])  # one dump: no db column needed
    with ScoringSession(spec) as session:
        result = session.score(rows)
        pid, base = session.server.pid, session.server.base
    assert result.summaries["sql-exec"].mean == 1.0
    assert result.database.embedded and result.database.start_s > 0
    assert list(result.database.load_s) == ["restaurants"] and result.database.load_s["restaurants"] > 0
    assert not psutil.pid_exists(pid) and not base.exists()


def test_a_broken_user_scorer_fails_before_any_server_starts(sql_eval, tmp_path):
    (tmp_path / "bad.py").write_text("raise RuntimeError('boom')\n")
    spec = ScorerSpec(names=f"sql-exec,python:{tmp_path / 'bad.py'}:grade",
                      sql_dumps=[sql_eval / "schemas" / "restaurants.sql"])
    session = ScoringSession(spec)
    with pytest.raises(ScoringError, match="cannot import bad.py: RuntimeError: boom"):
        session.__enter__()
    assert session.server is None


def test_importing_the_scorers_loads_no_driver_nor_heavy_library():
    code = ("import sys, compare.scoring; print([m for m in ('psycopg', 'jsonschema', 'pgserver', 'torch', "
            "'transformers', 'chromadb', 'streamlit') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _private_servers() -> set[Path]:
    import tempfile

    return set(Path(tempfile.gettempdir()).glob("ftadvisor-pg-*"))


def test_a_dump_that_fails_at_the_score_stage_takes_the_server_folder_along(tmp_path):
    (tmp_path / "bad.sql").write_text("CREATE TABLE public.t (id int);\nINSERT INTO public.t VALUES ('x');\n")
    before = _private_servers()
    with pytest.raises(ScoringError, match=r"bad\.sql line 2 did not load"):
        with ScoringSession(ScorerSpec(names="sql-exec", sql_dumps=[tmp_path / "bad.sql"])):
            pass
    assert _private_servers() <= before


def test_a_cancel_while_the_dumps_load_stops_the_session_and_takes_the_folder_along(sql_eval):
    from compare.scoring.limits import Stopped

    before = _private_servers()
    session = ScoringSession(ScorerSpec(names="sql-exec", sql_db_field="db", sql_dumps=[sql_eval / "schemas"]),
                             cancel_requested=lambda: True)
    with pytest.raises(Stopped) as info:
        session.__enter__()
    assert info.value.scope == "cancel" and session.server.databases == []
    assert _private_servers() <= before
