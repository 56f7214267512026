"""The `sql-exec` scorer: execution accuracy as defog-ai/sql-eval defines it (eval/eval.py
`compare_query_results`, runners/*: run the generated query and every accepted alternative of the
reference on the row's database; correct (1) when one alternative's result matches
(`sql_compare.results_match`), else 0).

Counted apart, as sql-eval's `error_db_exec` and `timeout` columns: a generated query that errors
(or is refused, or is not there) scores 0 with the database's message kept for the reader; one
that runs past the statement timeout scores 0 with status "timeout" (sql-eval counts its
`func_timeout` expiry among the errors; here the server's `statement_timeout` cancels it, the
connection survives, and the two are told apart). Not the answer's fault, so excluded from the
mean (sql-eval would count them wrong): a row whose database is not there, and a reference whose
every alternative fails.

Read-only on three levels: each query is the body of a server-side cursor (`DECLARE ... CURSOR
FOR`, which takes exactly one SELECT/VALUES/WITH query, no data-modifying CTE, and fetches at most
MAX_ROWS + 1 rows), inside a `BEGIN READ ONLY` transaction that is always rolled back, on a
connection with `default_transaction_read_only = on`; on the private server the role can only
SELECT as well. A statement that does not start with a reading keyword is refused before it is sent.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from compare.scoring.results import AnswerScore, ScoringRow
from compare.scoring.spec import DB_PLACEHOLDER
from compare.scoring.sql_compare import QueryResult, results_match
from compare.scoring.sql_extract import (
    READ_KEYWORDS, extract_sql, order_keys, reference_alternatives, statement_keyword, top_level_order_by,
)

MAX_ROWS = 100_000  # a result past this is an error: it bounds memory for a runaway cross join
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Outcome:
    """One query run: its result, or its error (and whether that was the statement timeout)."""

    result: QueryResult | None = None
    error: str | None = None
    timeout: bool = False


class Databases:
    """One read-only connection per database, opened on first use and kept for the session."""

    def __init__(self, url_template: str, timeout_s: float, known: set[str] | None = None):
        self.url_template = url_template
        self.timeout_s = timeout_s
        self.known = known  # the loaded databases (private server); None: whatever the server has
        self.queries = 0
        self.query_s = 0.0
        self._connections: dict[str, Any] = {}
        self._unavailable: dict[str, str] = {}

    def unavailable(self, database: str) -> str | None:
        """Why queries cannot run on `database` (not loaded, cannot connect), else None."""
        if self.known is not None and database not in self.known:
            return f"no database {database!r} (loaded: {', '.join(sorted(self.known)) or 'none'})"
        if database not in self._connections and database not in self._unavailable:
            self._connect(database)
        return self._unavailable.get(database)

    def _connect(self, database: str) -> None:
        import psycopg

        url = self.url_template.replace(DB_PLACEHOLDER, quote(database, safe=""))
        timeout_ms = max(1, round(self.timeout_s * 1000))  # 0 would mean no timeout at all
        options = f"-c statement_timeout={timeout_ms} -c default_transaction_read_only=on"
        try:
            conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, options=options,
                                   application_name="ftadvisor-scoring")
        except psycopg.Error as exc:
            self._unavailable[database] = f"cannot connect to database {database!r}: {_message(exc)}"
            return
        conn.read_only = True  # psycopg then opens each transaction with BEGIN READ ONLY
        self._connections[database] = conn

    def run(self, database: str, sql: str) -> Outcome:
        """Run one query on `database`; never raises for a bad query or a missing database."""
        import psycopg

        problem = self.unavailable(database)
        if problem:
            return Outcome(error=problem)
        conn = self._connections[database]
        started = time.perf_counter()
        try:
            with conn.cursor(name="ftadvisor_scoring") as cursor:
                cursor.execute(sql)
                rows = cursor.fetchmany(MAX_ROWS + 1)
                columns = [c.name for c in cursor.description]
            if len(rows) > MAX_ROWS:
                return Outcome(error=f"the result has more than {MAX_ROWS:,} rows")
            return Outcome(result=QueryResult(columns, rows))
        except psycopg.errors.QueryCanceled:
            return Outcome(error=f"canceled by the statement timeout ({self.timeout_s:g} s)", timeout=True)
        except psycopg.Error as exc:
            return Outcome(error=_message(exc))
        finally:
            self.queries += 1
            self.query_s += time.perf_counter() - started
            self._end_transaction(database, conn)

    def _end_transaction(self, database: str, conn: Any) -> None:
        import psycopg

        try:
            conn.rollback()
        except psycopg.Error:
            conn.close()
        if conn.closed:  # lost (the server went away): reconnect on the next use
            del self._connections[database]

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


def _message(exc: Exception) -> str:
    """The database's primary message ('relation "x" does not exist'), else the first line."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@dataclass
class _Reference:
    """A reference alternative, its result on one database and how its rows are ordered."""

    sql: str
    outcome: Outcome
    ordered: bool
    order_columns: list[str | int] | None


@dataclass
class SqlExecScorer:
    """Scores answers on `databases`; reference results are cached, so scoring several arms' answers
    to the same questions runs each reference once."""

    databases: Databases
    db_field: str | None = None
    default_db: str = ""
    _references: dict[tuple[str, str], _Reference] = field(default_factory=dict)

    def __call__(self, row: ScoringRow) -> AnswerScore:
        database = self._database(row)
        problem = "the row names no database" if database is None else self.databases.unavailable(database)
        if problem:
            return AnswerScore(score=None, status="excluded", error=problem)
        alternatives = [self._reference(database, q) for q in reference_alternatives(row.reference)]
        runnable = [r for r in alternatives if r.outcome.result is not None]
        if not runnable:
            why = alternatives[0].outcome.error if alternatives else "it holds no query"
            return AnswerScore(score=None, status="excluded", error=f"the reference fails: {why}")
        return self._score_answer(database, extract_sql(row.answer), runnable)

    def _database(self, row: ScoringRow) -> str | None:
        if self.db_field is None:
            return self.default_db
        value = row.row.get(self.db_field)
        return str(value).strip() if value is not None and str(value).strip() else None

    def _reference(self, database: str, sql: str) -> _Reference:
        key = (database, sql)
        if key not in self._references:
            items = top_level_order_by(sql)
            self._references[key] = _Reference(sql, self.databases.run(database, sql), items is not None,
                                               order_keys(items) if items is not None else None)
        return self._references[key]

    def _score_answer(self, database: str, sql: str, references: list[_Reference]) -> AnswerScore:
        if not sql:
            return AnswerScore(score=0.0, status="error", error="no SQL query in the answer", sql=sql)
        keyword = statement_keyword(sql)
        if keyword not in READ_KEYWORDS:
            return AnswerScore(score=0.0, status="error", sql=sql,
                               error=f"refused: only queries that read run here (got {keyword or 'no keyword'})")
        generated = self.databases.run(database, sql)
        if generated.result is None:
            return AnswerScore(score=0.0, status="timeout" if generated.timeout else "error",
                               error=generated.error, sql=sql)
        correct = any(results_match(r.outcome.result, generated.result, ordered=r.ordered,
                                    order_columns=r.order_columns) for r in references)
        return AnswerScore(score=float(correct), status="ok", sql=sql)
