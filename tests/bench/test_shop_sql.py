"""bench/data/shop_sql, the Text-to-SQL example of `python -m bench compare`, is well-formed: every
line has its three fields, no question is asked twice, and every reference query runs on the shop's
dump (loaded as sql-exec loads it, on a private PostgreSQL) with a result that can tell a right
query from a wrong one."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from compare.scoring.postgres import PrivateServer
from compare.scoring.sql_exec import Databases

SHOP = Path(__file__).resolve().parents[2] / "bench" / "data" / "shop_sql"
FIELDS = {"question", "query", "db_name"}


def rows() -> list[dict]:
    return [json.loads(line) for line in (SHOP / "qa.jsonl").read_text().splitlines()]


def test_every_line_has_a_question_a_query_and_a_database_with_a_dump():
    dumps = {path.stem for path in (SHOP / "docs").glob("*.sql")}
    for number, row in enumerate(rows(), 1):
        assert set(row) == FIELDS, f"line {number}"
        assert all(isinstance(row[f], str) and row[f].strip() for f in FIELDS), f"line {number}"
        assert row["db_name"] in dumps, f"line {number}"


def test_no_question_is_asked_twice():
    questions = [" ".join(row["question"].casefold().split()) for row in rows()]
    assert len(questions) == len(set(questions))
    assert 100 <= len(questions) <= 120


@pytest.fixture(scope="module")
def shop_db():
    with PrivateServer() as server:
        for dump in sorted((SHOP / "docs").glob("*.sql")):
            server.load_dump(dump)
        databases = Databases(server.url_template(), timeout_s=5, known=set(server.databases))
        yield databases
        databases.close()


def test_every_reference_runs_on_the_dump_with_a_result_that_is_not_nothing(shop_db):
    for number, row in enumerate(rows(), 1):
        outcome = shop_db.run(row["db_name"], row["query"])
        assert outcome.error is None, f"line {number}: {outcome.error}"
        assert outcome.result.rows, f"line {number}: no rows"
        # A count or sum of nothing (0, NULL) would score a query with a wrong filter as right.
        empty = [r for r in outcome.result.rows if all(cell in (None, 0) for cell in r)]
        assert not empty, f"line {number}: a row of zeros or NULLs {empty}"
