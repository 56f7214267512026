"""sql-exec on a real PostgreSQL: hand-made cases with known verdicts on the toy database, and real
sql-eval questions scored with their own reference queries (1.0) and with a wrong one (0.0)."""
from __future__ import annotations

import csv

import psycopg
import pytest

from compare.scoring.postgres import READER, SUPERUSER
from compare.scoring.results import ScoringRow
from compare.scoring.sql_exec import Databases, SqlExecScorer
from compare.scoring.sql_extract import reference_alternatives


@pytest.fixture
def databases(pg):
    dbs = Databases(pg.url_template(), timeout_s=0.5, known=set(pg.databases))
    yield dbs
    dbs.close()


@pytest.fixture
def score(databases):
    scorer = SqlExecScorer(databases, db_field="db")

    def run(answer: str, reference: str, db: str = "toy"):
        return scorer(ScoringRow(question="q", answer=answer, reference=reference, row={"db": db}))

    return run


PARIS = "SELECT name FROM people WHERE city = 'Paris'"


@pytest.mark.parametrize("answer", [
    "SELECT p.name AS who FROM people p WHERE p.city IN ('Paris') ORDER BY 1 DESC",     # alias, order
    "SELECT id, name FROM people WHERE city = 'Paris'",                                 # an extra column
    "SELECT DISTINCT name FROM people WHERE id IN (SELECT id FROM people WHERE city LIKE 'Par%')",
    "Sure! Here it is:\n```sql\nSELECT name\nFROM people\nWHERE city = 'Paris';\n```",  # fence and prose
])
def test_equivalent_queries_spelled_differently_score_1(score, answer):
    result = score(answer, PARIS)
    assert (result.score, result.status, result.error) == (1.0, "ok", None)


def test_a_wrong_result_scores_0_without_an_error(score):
    result = score("SELECT name FROM people WHERE city = 'Rome'", PARIS)
    assert (result.score, result.status, result.error) == (0.0, "ok", None)
    assert result.sql == "SELECT name FROM people WHERE city = 'Rome'"


def test_a_query_that_errors_scores_0_with_the_database_message(score):
    result = score("SELECT nme FROM people", PARIS)
    assert (result.score, result.status) == (0.0, "error")
    assert result.error == 'column "nme" does not exist'


def test_a_query_past_the_statement_timeout_is_a_timeout_and_the_connection_survives(score):
    result = score("SELECT name FROM people, pg_sleep(5)", PARIS)
    assert (result.score, result.status) == (0.0, "timeout")
    assert "statement timeout (0.5 s)" in result.error
    assert score(PARIS, PARIS).score == 1.0


@pytest.mark.parametrize("user", [READER, SUPERUSER])
@pytest.mark.parametrize("answer, message", [
    ("DELETE FROM people", "refused: only queries that read run here (got DELETE)"),
    ("DROP TABLE people", "refused: only queries that read run here (got DROP)"),
    ("WITH gone AS (DELETE FROM people RETURNING name) SELECT name FROM gone", "data-modifying"),
    ("SELECT nextval('ticket')", {READER: "permission denied", SUPERUSER: "read-only transaction"}),
])
def test_a_query_that_tries_to_write_is_refused_and_nothing_changes(pg, user, answer, message):
    # As the reader role, and as a role that could write (a user's sql_url may be one): the
    # read-only transaction and the cursor refuse writes all the same.
    dbs = Databases(pg.url_template(user), timeout_s=5, known=set(pg.databases))
    try:
        result = SqlExecScorer(dbs, db_field="db")(ScoringRow(question="q", answer=answer, reference=PARIS,
                                                              row={"db": "toy"}))
    finally:
        dbs.close()
    assert (result.score, result.status) == (0.0, "error")
    assert (message[user] if isinstance(message, dict) else message) in result.error
    with psycopg.connect(pg.url("toy")) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 4
        assert conn.execute("SELECT last_value, is_called FROM ticket").fetchone() == (1, False)


@pytest.mark.parametrize("user", [READER, SUPERUSER])
def test_a_second_statement_never_runs(pg, user):
    # extract_sql keeps the first statement; the cursor would refuse a second one anyway.
    dbs = Databases(pg.url_template(user), timeout_s=5, known=set(pg.databases))
    try:
        outcome = dbs.run("toy", "SELECT name FROM people; DELETE FROM people")
    finally:
        dbs.close()
    assert outcome.result is None and "cannot insert multiple commands" in outcome.error
    with psycopg.connect(pg.url("toy")) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 4


ORDERED = "SELECT name, age FROM people ORDER BY age DESC, name"


@pytest.mark.parametrize("answer, expected", [
    ("SELECT name, age FROM people ORDER BY age DESC, name", 1.0),
    ("SELECT name, age FROM people ORDER BY 2 DESC, 1", 1.0),
    ("SELECT name, age FROM people ORDER BY age ASC", 0.0),
    ("SELECT name, age FROM people ORDER BY id", 0.0),          # the same rows, not in order
])
def test_order_counts_when_the_reference_orders(score, answer, expected):
    assert score(answer, ORDERED).score == expected
    assert score(answer, "SELECT name, age FROM people").score == 1.0  # an unordered reference


def test_rows_that_tie_on_the_order_key_may_come_in_any_order(score):
    reference = "SELECT name, age FROM people ORDER BY age"            # Bob and Dee tie at 25
    assert score("SELECT name, age FROM people ORDER BY age, name DESC", reference).score == 1.0


def test_any_alternative_of_the_reference_is_accepted(score):
    reference = "SELECT {name, id} FROM people WHERE age = 25;SELECT upper(name) FROM people WHERE age = 25"
    for answer in ("SELECT id FROM people WHERE age = 25", "SELECT name, id FROM people WHERE age = 25",
                   "SELECT upper(name) FROM people WHERE age = 25"):
        assert score(answer, reference).score == 1.0
    assert score("SELECT city FROM people WHERE age = 25", reference).score == 0.0


def test_numeric_and_null_values_match_a_float_spelling(score):
    assert score("SELECT score::float8 AS s FROM people", "SELECT score FROM people").score == 1.0


@pytest.mark.parametrize("answer, reference, db, status, error", [
    ("SELECT 1", PARIS, "broker", "excluded", "no database 'broker'"),
    ("SELECT 1", PARIS, "", "excluded", "the row names no database"),
    ("SELECT 1", "SELECT nope FROM people", "toy", "excluded", "the reference fails: column \"nope\" does not exist"),
    ("I cannot answer that.", PARIS, "toy", "error", "refused: only queries that read run here (got I)"),
    ("", PARIS, "toy", "error", "no SQL query in the answer"),
])
def test_rows_that_cannot_be_scored(score, answer, reference, db, status, error):
    result = score(answer, reference, db)
    assert result.status == status and error in result.error
    assert result.score == (None if status == "excluded" else 0.0)


def test_reference_results_are_run_once_per_database_and_query(databases, score):
    score("SELECT name FROM people", PARIS)
    before = databases.queries
    score("SELECT city FROM people", PARIS)
    assert databases.queries == before + 1  # only the answer ran


def _questions(sql_eval, db: str) -> list[dict]:
    with open(sql_eval / "questions_gen_postgres.csv", newline="") as f:
        return [row for row in csv.DictReader(f) if row["db_name"] == db]


@pytest.mark.parametrize("db", ["restaurants", "geography"])
def test_sql_eval_questions_score_1_with_their_reference_and_0_with_a_wrong_query(pg, sql_eval, db):
    dbs = Databases(pg.url_template(), timeout_s=10, known=set(pg.databases))
    scorer = SqlExecScorer(dbs, db_field="db_name")
    questions = _questions(sql_eval, db)
    try:
        for row in questions:
            for answer in (reference_alternatives(row["query"])[0], reference_alternatives(row["query"])[-1]):
                result = scorer(ScoringRow(question=row["question"], answer=answer, reference=row["query"], row=row))
                assert (result.score, result.status) == (1.0, "ok"), (row["question"], result)
            wrong = scorer(ScoringRow(question=row["question"], answer="SELECT 42 AS answer",
                                      reference=row["query"], row=row))
            assert (wrong.score, wrong.status) == (0.0, "ok")
    finally:
        dbs.close()
    assert len(questions) == 25
