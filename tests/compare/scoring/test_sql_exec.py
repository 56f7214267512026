"""sql-exec on a real PostgreSQL: hand-made cases with known verdicts on the toy database, real
sql-eval questions scored with their own reference queries (1.0) and with a wrong one (0.0), and
the bounds: a transaction that cannot be switched, caps on rows, bytes, alternatives and column
matching, deadlines, and a cancel that stops a running query."""
from __future__ import annotations

import csv
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from compare.scoring.limits import Limits, Stopped
from compare.scoring.postgres import READER, SUPERUSER
from compare.scoring.results import ScoringRow
from compare.scoring.sql_exec import MAX_ALTERNATIVES, Databases, SqlExecScorer
from compare.scoring.sql_extract import reference_alternatives
from tests.wait import wait_until

REPO = Path(__file__).resolve().parents[3]


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


@pytest.mark.parametrize("user", [READER, SUPERUSER])
@pytest.mark.parametrize("query", [
    "SET TRANSACTION READ WRITE",
    "COMMIT",
    "SELECT 1; COMMIT; INSERT INTO people (id) VALUES (9)",
    "SELECT set_config('transaction_read_only', 'off', true), nextval('ticket')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "WITH x AS (SELECT 1) SELECT * FROM x; SET TRANSACTION READ WRITE; DELETE FROM people",
])
def test_a_query_cannot_switch_its_transaction_to_writing(pg, user, query):
    dbs = Databases(pg.url_template(user), timeout_s=5, known=set(pg.databases))
    try:
        dbs.run("toy", query)
        after = dbs.run("toy", "SELECT nextval('ticket')")  # the same connection, a new transaction
    finally:
        dbs.close()
    assert after.result is None and ("read-only" in after.error or "permission denied" in after.error)
    with psycopg.connect(pg.url("toy")) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 4
        assert conn.execute("SELECT last_value, is_called FROM ticket").fetchone() == (1, False)


# The peak is read from VmHWM: getrusage's ru_maxrss would count the parent's size at the fork.
WIDE = """
import re, sys
from compare.scoring.sql_exec import Databases
dbs = Databases(sys.argv[1], timeout_s=60, known={"toy"})
outcome = dbs.run("toy", "SELECT i, repeat('x', 1000000) FROM generate_series(1, 3000) i")
dbs.close()
print(int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024)
print(outcome.error)
"""


def test_a_result_of_3000_rows_of_1_mb_stops_at_the_byte_cap(pg):
    # Before the byte cap, this query took the scorer to 5.8 GB (rows were capped, not bytes).
    done = subprocess.run([sys.executable, "-c", WIDE, pg.url_template()], cwd=REPO, capture_output=True, text=True,
                          check=True, timeout=300)
    peak_mib, error = done.stdout.splitlines()
    assert error.startswith("the result holds more than 32 MiB (the cap on a result), 34 rows read")
    assert int(peak_mib) < 200  # 81 MiB measured


def _wide_reference(columns: int) -> str:
    return "SELECT {" + ", ".join(f"c{i}" for i in range(columns)) + "} FROM (SELECT " + ", ".join(
        f"1 AS c{i}" for i in range(columns)) + ") AS t"


@pytest.mark.timeout(120)
def test_a_reference_with_262143_alternatives_runs_the_first_64_and_says_so(databases, score):
    before = databases.queries
    result = score("SELECT 2 AS nothing", _wide_reference(18))
    assert (result.score, result.status) == (0.0, "ok")
    assert result.note == f"the reference lists 262,143 alternatives: the first {MAX_ALTERNATIVES} were run"
    assert databases.queries - before == MAX_ALTERNATIVES + 1


@pytest.mark.timeout(120)
def test_twelve_columns_of_equal_values_are_paired_at_once(score):
    # Every pairing of 12 equal columns agrees on sorted values: trying them all took hours.
    columns = ", ".join(f"1 AS c{i}" for i in range(12))
    answer = "SELECT " + ", ".join(f"1 AS x{i}" for i in range(12)) + ", 2 AS extra"
    assert score(answer, f"SELECT {columns}").score == 1.0


def test_column_matching_stops_after_its_cap_with_a_note(score):
    # 40 columns holding 0..19 in 40 different orders: every column's sorted values agree with
    # every other's, no pairing of two agrees row by row: 1,560 partial pairings to rule out.
    orders = [f"(i * {k} + {k * 7}) % 23" for k in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                                                     20, 21, 22)]
    orders = (orders * 2)[:40]
    reference = "SELECT " + ", ".join(f"{o} AS r{n}" for n, o in enumerate(orders)) + " FROM generate_series(0, 22) i"
    answer = "SELECT " + ", ".join(f"{o} AS g{n}" for n, o in enumerate(reversed(orders))) + \
        ", i AS extra FROM generate_series(0, 22) i"
    result = score(answer, reference)
    assert (result.score, result.status) == (0.0, "ok")
    assert result.note.startswith("column matching stopped after 1,000 checks of up to ")


def test_the_answer_deadline_bounds_the_reference_and_the_answer(pg):
    dbs = Databases(pg.url_template(), timeout_s=10, known=set(pg.databases), limits=Limits(answer_s=1))
    scorer = SqlExecScorer(dbs, db_field="db")
    slow = "SELECT {a, b, c, d, e, f} FROM (SELECT 1 AS a, 2 AS b, 3 AS c, 4 AS d, 5 AS e, 6 AS f, pg_sleep(0.4)) t"
    try:
        cut = scorer(ScoringRow(question="q", answer="SELECT 1 AS a", reference=slow, row={"db": "toy"}))
        slow_answer = scorer(ScoringRow(question="q", answer="SELECT name FROM people, pg_sleep(5)", reference=PARIS,
                                        row={"db": "toy"}))
    finally:
        dbs.close()
    assert (cut.score, cut.status) == (1.0, "ok")  # scored on the alternatives that ran
    assert cut.note.endswith(" of 63 reference alternatives ran before the deadline (1 s)")
    assert int(cut.note.split()[0]) < 10
    assert (slow_answer.score, slow_answer.status) == (0.0, "timeout")
    assert slow_answer.error == "scoring this answer passed its deadline (1 s)"


def test_answers_after_the_stage_deadline_are_excluded_with_a_note(pg):
    limits = Limits(stage_s=0.5)
    dbs = Databases(pg.url_template(), timeout_s=10, known=set(pg.databases), limits=limits)
    scorer = SqlExecScorer(dbs, db_field="db")
    try:
        first = scorer(ScoringRow(question="q", answer="SELECT name FROM people, pg_sleep(5)", reference=PARIS,
                                  row={"db": "toy"}))
        later = scorer(ScoringRow(question="q", answer=PARIS, reference=PARIS, row={"db": "toy"}))
    finally:
        dbs.close()
    for result in (first, later):
        assert (result.score, result.status) == (None, "excluded")
        assert result.error == "not scored: the score stage passed its deadline (0.5 s)"


def test_a_cancel_stops_a_running_query_at_once(pg):
    asked = threading.Event()
    dbs = Databases(
        pg.url_template(), timeout_s=60, known=set(pg.databases), limits=Limits(cancel_requested=asked.is_set)
    )

    def cancel_once_running():
        try:
            with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
                wait_until(lambda: conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ftadvisor-scoring' "
                    "AND state = 'active' AND wait_event = 'PgSleep'").fetchone()[0], timeout_s=20, poll_s=0.02,
                    what="scoring query sleeping on the server")
        finally:
            asked.set()

    helper = threading.Thread(target=cancel_once_running)
    helper.start()
    started = time.monotonic()
    try:
        with pytest.raises(Stopped) as info:
            dbs.run("toy", "SELECT pg_sleep(30)")
    finally:
        helper.join()
        dbs.close()
    assert info.value.scope == "cancel"
    assert time.monotonic() - started < 10  # the query sleeps 30 s: it was cancelled on the server
