"""SQL taken from model answers, reference alternatives (sql-eval's cases), ORDER BY detection."""
from __future__ import annotations

import pytest

from compare.scoring.sql_extract import (
    count_alternatives,
    extract_sql,
    mask,
    order_keys,
    reference_alternatives,
    split_statements,
    statement_keyword,
    top_level_order_by,
)


@pytest.mark.parametrize("answer, sql", [
    ("SELECT 1;", "SELECT 1"),
    ("```sql\nSELECT a FROM t;\n```\nThis returns a.", "SELECT a FROM t"),
    ("Try:\n```\nSELECT a FROM t\n```", "SELECT a FROM t"),
    ("```python\nprint(1)\n```\n```sql\nSELECT 2\n```", "SELECT 2"),          # the sql fence wins
    ("```sql\nSELECT a FROM t WHERE b >", "SELECT a FROM t WHERE b >"),       # cut by max_new_tokens
    ("Here is the query you asked for:\nselect a from t;", "select a from t"),
    ("To answer, we SELECT a FROM t", "SELECT a FROM t"),
    ("<think>maybe SELECT x</think>\nSELECT y;", "SELECT y"),
    ("[SQL]\nWITH c AS (SELECT 1) SELECT * FROM c; DROP TABLE t;", "WITH c AS (SELECT 1) SELECT * FROM c"),
    ("SELECT 'a;b' AS x; SELECT 2", "SELECT 'a;b' AS x"),                    # ';' in a string
    ("I do not know.", "I do not know."),
    ("", ""),
])
def test_extract_sql_takes_the_first_query_of_an_answer(answer, sql):
    assert extract_sql(answer) == sql


def test_mask_blanks_strings_comments_and_quoted_names_keeping_positions():
    sql = """SELECT 'it''s;' AS "a;b", E'x\\';' -- c;\n/* d; */ $q$e;$q$ FROM t;"""
    masked = mask(sql)
    assert len(masked) == len(sql)
    assert masked.count(";") == 1 and masked.rstrip().endswith("t;")


def test_split_statements_ignores_empty_ones():
    assert split_statements("SELECT 1; ;\n SELECT 2;") == ["SELECT 1", "SELECT 2"]


@pytest.mark.parametrize("sql, keyword", [
    ("(SELECT 1) UNION SELECT 2", "SELECT"), ("  with x as (select 1) select * from x", "WITH"),
    ("DELETE FROM t", "DELETE"), ("/* hi */ VALUES (1)", "VALUES"), ("", ""),
])
def test_statement_keyword(sql, keyword):
    assert statement_keyword(sql) == keyword


def test_reference_alternatives_expand_like_sql_eval():
    # defog-ai/sql-eval tests/test_eval.py::test_get_all_minimal_queries, query4 and query5.
    query = ("SELECT {persons.name,persons.id} FROM persons WHERE persons.age > 25 GROUP BY {};"
             "SELECT {user.name,user.id} FROM user WHERE user.age > 25 GROUP BY {};")
    assert reference_alternatives(query) == [
        "SELECT persons.name FROM persons WHERE persons.age > 25 GROUP BY persons.name",
        "SELECT persons.id FROM persons WHERE persons.age > 25 GROUP BY persons.id",
        "SELECT persons.name, persons.id FROM persons WHERE persons.age > 25 GROUP BY persons.name, persons.id",
        "SELECT user.name FROM user WHERE user.age > 25 GROUP BY user.name",
        "SELECT user.id FROM user WHERE user.age > 25 GROUP BY user.id",
        "SELECT user.name, user.id FROM user WHERE user.age > 25 GROUP BY user.name, user.id",
    ]


def test_reference_alternatives_leave_braces_in_strings_and_drop_repeats():
    assert reference_alternatives("SELECT '{a,b}'::text[]; SELECT '{a,b}'::text[];") == ["SELECT '{a,b}'::text[]"]


@pytest.mark.parametrize("sql, items", [
    ("SELECT a FROM t ORDER BY a DESC NULLS LAST LIMIT 5", "a DESC NULLS LAST"),
    ("SELECT a FROM (SELECT a FROM t ORDER BY a) s", None),                  # a subquery's
    ("SELECT a, rank() OVER (ORDER BY b) FROM t", None),                     # a window's
    ("WITH c AS (SELECT a FROM t ORDER BY a) SELECT a FROM c ORDER BY 1;", "1"),
    ("SELECT 'ORDER BY x' FROM t", None),                                    # in a string
    ("SELECT a FROM t\norder\n  by t.a, b", "t.a, b"),
])
def test_top_level_order_by(sql, items):
    assert top_level_order_by(sql) == items


@pytest.mark.parametrize("items, keys", [
    ("t.a DESC, 2 ASC", ["a", 2]),
    ('"Total" DESC NULLS FIRST, s."Name"', ["Total", "Name"]),
    ("COUNT(*) DESC", None),
    ("AVG(x), y", None),
])
def test_order_keys_name_columns_or_positions(items, keys):
    assert order_keys(items) == keys


def test_alternatives_are_counted_first_and_built_up_to_a_limit():
    reference = "SELECT {" + ", ".join(f"c{i}" for i in range(18)) + "} FROM t; SELECT 1"
    assert count_alternatives(reference) == 2 ** 18 - 1 + 1
    first = reference_alternatives(reference, limit=20)
    assert first[:3] == ["SELECT c0 FROM t", "SELECT c1 FROM t", "SELECT c2 FROM t"] and len(first) == 20
