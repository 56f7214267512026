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
FOR`, sent through the extended protocol: exactly one SELECT/VALUES/WITH query, no second command,
no data-modifying CTE), inside a `BEGIN READ ONLY` transaction that is always rolled back (a query
cannot switch it: `SET TRANSACTION READ WRITE` is not a query, and `set_config` cannot make a
transaction read-write once it has run a query), on a connection with
`default_transaction_read_only = on`; on the private server the role can only SELECT as well,
and the user's role is checked (`server_rights`). A statement that does not start with a reading
keyword is refused before it is sent.

Bounded: each query by the server's statement timeout and by a watcher thread (`limits.Watch`)
that cancels it past that timeout, past the answer's or the stage's deadline, or on the run's
cancel request; each result by MAX_ROWS rows and MAX_RESULT_BYTES (rows are streamed from the
cursor in FETCHes sized by the bytes left and counted as they come: a result of 3,000 rows of
1 MB stops at 32 MiB, the scorer's peak 81 MiB, where it used to take 5.8 GB); each reference
by MAX_ALTERNATIVES alternatives (counted first: `{c0, ..., c17}` lists 262,143); the column
matching by `sql_compare.MAX_CHECKS`. Every cap that applied is said in the answer's note or error.
"""
from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from compare.scoring.errors import ScoringError, database_message
from compare.scoring.limits import Limits, Stopped, Watch
from compare.scoring.results import AnswerScore, ScoringRow
from compare.scoring.server_rights import MISSING_DATABASE, refuse_privileged
from compare.scoring.spec import DB_PLACEHOLDER
from compare.scoring.sql_compare import QueryResult, results_match
from compare.scoring.sql_extract import (
    READ_KEYWORDS,
    count_alternatives,
    extract_sql,
    order_keys,
    reference_alternatives,
    statement_keyword,
    top_level_order_by,
)

MAX_ROWS = 100_000  # a result past this is an error: it bounds memory for a runaway cross join
MAX_RESULT_BYTES = 32 * 2**20  # the same for wide rows (text, arrays, JSON), counted as they arrive
FETCH_ROWS = 100  # rows per FETCH at most: past a cap, at most this many more are read (and dropped)
FIRST_FETCH_ROWS = 8  # the first FETCH, before the size of a row is known
MAX_ALTERNATIVES = 64  # sql-eval's references list at most 9
REFERENCE_CACHE_BYTES = 256 * 2**20  # reference results kept for the next arms; bigger ones run again
CONNECT_TIMEOUT_S = 10
QUERY_GRACE_S = 1.0  # the watcher cancels a query this long past the statement timeout
_CURSOR = "ftadvisor_scoring"


@dataclass(frozen=True)
class Outcome:
    """One query run: its result (and its size in bytes), or its error (and whether a timeout)."""

    result: QueryResult | None = None
    error: str | None = None
    timeout: bool = False
    size_bytes: int = 0


class Databases:
    """One read-only connection per database, opened on first use and kept for the session.

    `user_server`: the URL is the user's (`sql_url`): its role is checked on every connection
    (refused when it may do more than read, unless `allow_privileged`), and a server that cannot
    be reached fails the scoring (ScoringError) instead of excluding every row."""

    def __init__(self, url_template: str, timeout_s: float, known: set[str] | None = None, *,
                 limits: Limits | None = None, user_server: bool = False, allow_privileged: bool = False):
        self.url_template = url_template
        self.timeout_s = timeout_s
        self.known = known  # the loaded databases (private server); None: whatever the server has
        self.limits = limits or Limits()
        self.user_server = user_server
        self.allow_privileged = allow_privileged
        self.queries = 0
        self.query_s = 0.0
        self._watch = Watch(self.limits)
        self._connections: dict[str, Any] = {}
        self._unavailable: dict[str, str] = {}

    def unavailable(self, database: str) -> str | None:
        """Why queries cannot run on `database` (not loaded, not on the server), else None;
        ScoringError when the server itself cannot be reached or its role is refused."""
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
            if MISSING_DATABASE.search(str(exc)):
                self._unavailable[database] = f"no database {database!r} on the server"
                return
            where = "sql_url" if self.user_server else "sql-exec: the private server"
            raise ScoringError(f"{where}: cannot connect to database {database!r}: {database_message(exc)}") from None
        try:
            if self.user_server:
                refuse_privileged(conn, self.allow_privileged)
        except BaseException:
            conn.close()
            raise
        conn.read_only = True  # psycopg then opens each transaction with BEGIN READ ONLY
        self._connections[database] = conn

    def run(self, database: str, sql: str) -> Outcome:
        """Run one query on `database`; never raises for a bad query or a missing database.
        Raises limits.Stopped when the answer's or stage's deadline passes or the run is cancelled."""
        import psycopg

        problem = self.unavailable(database)
        if problem:
            return Outcome(error=problem)
        self.limits.check()
        conn = self._connections[database]
        started = time.perf_counter()
        try:
            with self._watch.query(conn, self.timeout_s + QUERY_GRACE_S):
                return self._fetch(conn, sql)
        except psycopg.errors.QueryCanceled:
            fired = self._watch.fired
            if fired is not None and fired.scope != "query":
                raise fired from None
            return Outcome(error=f"canceled by the statement timeout ({self.timeout_s:g} s)", timeout=True)
        except psycopg.Error as exc:
            return Outcome(error=database_message(exc))
        finally:
            self.queries += 1
            self.query_s += time.perf_counter() - started
            self._end_transaction(database, conn)

    def _fetch(self, conn: Any, sql: str) -> Outcome:
        """DECLARE a cursor for `sql` (psycopg describes its columns), then FETCH it in batches
        streamed row by row, counting rows and bytes as they come."""
        with conn.cursor(name=_CURSOR) as declared:
            declared.execute(sql)
            columns = [c.name for c in declared.description]
            rows: list[tuple] = []
            size, asked, got = 0, FIRST_FETCH_ROWS, FIRST_FETCH_ROWS
            reader = conn.cursor()
            while got == asked:
                # As many rows as the bytes left hold at the mean row size so far: libpq buffers a
                # whole FETCH as it arrives, whatever is read of it.
                asked = min(FETCH_ROWS, max(1, (MAX_RESULT_BYTES - size) * len(rows) // size + 1)) if size else asked
                got = 0
                with closing(reader.stream(f'FETCH FORWARD {asked} FROM "{_CURSOR}"')) as stream:
                    for row in stream:
                        got += 1
                        rows.append(row)
                        size += _bytes(row)
                        if len(rows) > MAX_ROWS or size > MAX_RESULT_BYTES:
                            break
                if len(rows) > MAX_ROWS:
                    return Outcome(error=f"the result has more than {MAX_ROWS:,} rows (the cap on a result)")
                if size > MAX_RESULT_BYTES:
                    return Outcome(error=f"the result holds more than {MAX_RESULT_BYTES // 2**20} MiB (the cap on a "
                                         f"result), {len(rows):,} rows read")
        return Outcome(result=QueryResult(columns, rows), size_bytes=size)

    def _end_transaction(self, database: str, conn: Any) -> None:
        import psycopg

        try:
            conn.rollback()
        except psycopg.Error:
            conn.close()
        if conn.closed:  # lost (the server went away): reconnect on the next use
            del self._connections[database]

    def close(self) -> None:
        self._watch.close()
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()


def _bytes(value: Any) -> int:
    """About how many bytes a cell (or a row) holds once loaded: text and binary by length."""
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return len(value)
    if isinstance(value, (tuple, list)):
        return 8 + sum(_bytes(v) for v in value)
    if isinstance(value, dict):
        return 8 + sum(_bytes(k) + _bytes(v) for k, v in value.items())
    return 16


@dataclass
class _Reference:
    """A reference alternative, its result on one database and how its rows are ordered."""

    sql: str
    outcome: Outcome
    ordered: bool
    order_columns: list[str | int] | None


@dataclass
class _References:
    """What one reference accepts on one database, run once for every arm."""

    alternatives: list[_Reference]
    notes: list[str]
    size_bytes: int = 0


@dataclass
class SqlExecScorer:
    """Scores answers on `databases`; reference results are cached (up to REFERENCE_CACHE_BYTES),
    so scoring several arms' answers to the same questions runs each reference once.

    Each answer has the answer deadline twice: once for its reference's alternatives (run once per
    question, the same for every arm), once for its own query and the comparison."""

    databases: Databases
    db_field: str | None = None
    default_db: str = ""
    _references: dict[tuple[str, str], _References] = field(default_factory=dict)
    _cached_bytes: int = 0

    def __call__(self, row: ScoringRow) -> AnswerScore:
        try:
            return self._score(row)
        except Stopped as stop:
            if stop.scope == "cancel":
                raise
            return AnswerScore(score=None, status="excluded", error=str(stop))  # the stage's deadline
        finally:
            self.databases.limits.end_answer()

    def _score(self, row: ScoringRow) -> AnswerScore:
        database = self._database(row)
        problem = "the row names no database" if database is None else self.databases.unavailable(database)
        if problem:
            return AnswerScore(score=None, status="excluded", error=problem)
        references = self._reference(database, row.reference)
        runnable = [r for r in references.alternatives if r.outcome.result is not None]
        note = "; ".join(references.notes) or None
        if not runnable:
            why = references.alternatives[0].outcome.error if references.alternatives else (
                note or "it holds no query")
            return AnswerScore(score=None, status="excluded", error=f"the reference fails: {why}")
        sql = extract_sql(row.answer)
        self.databases.limits.start_answer()
        try:
            return self._score_answer(database, sql, runnable, references.notes)
        except Stopped as stop:
            if stop.scope != "answer":
                raise
            return AnswerScore(score=0.0, status="timeout", error=str(stop), sql=sql, note=note)

    def _database(self, row: ScoringRow) -> str | None:
        if self.db_field is None:
            return self.default_db
        value = row.row.get(self.db_field)
        return str(value).strip() if value is not None and str(value).strip() else None

    def _reference(self, database: str, reference: str) -> _References:
        key = (database, reference)
        if key in self._references:
            return self._references[key]
        queries = reference_alternatives(reference, limit=MAX_ALTERNATIVES)
        total = count_alternatives(reference)
        found = _References([], [])
        if total > len(queries) == MAX_ALTERNATIVES:
            found.notes.append(f"the reference lists {total:,} alternatives: the first {MAX_ALTERNATIVES} were run")
        self.databases.limits.start_answer()
        for sql in queries:
            try:
                outcome = self.databases.run(database, sql)
            except Stopped as stop:
                if stop.scope != "answer":
                    raise
                found.notes.append(f"{len(found.alternatives)} of {len(queries)} reference alternatives ran before "
                                   f"the deadline ({self.databases.limits.answer_s:g} s)")
                break
            items = top_level_order_by(sql)
            found.alternatives.append(_Reference(sql, outcome, items is not None,
                                                 order_keys(items) if items is not None else None))
            found.size_bytes += outcome.size_bytes
        if self._cached_bytes + found.size_bytes <= REFERENCE_CACHE_BYTES:
            self._references[key] = found
            self._cached_bytes += found.size_bytes
        return found

    def _score_answer(self, database: str, sql: str, references: list[_Reference], notes: list[str]) -> AnswerScore:
        note = "; ".join(notes) or None
        if not sql:
            return AnswerScore(score=0.0, status="error", error="no SQL query in the answer", sql=sql, note=note)
        keyword = statement_keyword(sql)
        if keyword not in READ_KEYWORDS:
            return AnswerScore(score=0.0, status="error", sql=sql, note=note,
                               error=f"refused: only queries that read run here (got {keyword or 'no keyword'})")
        generated = self.databases.run(database, sql)
        if generated.result is None:
            return AnswerScore(score=0.0, status="timeout" if generated.timeout else "error",
                               error=generated.error, sql=sql, note=note)
        notes = list(notes)
        for reference in references:
            match = results_match(reference.outcome.result, generated.result, ordered=reference.ordered,
                                  order_columns=reference.order_columns, limits=self.databases.limits)
            if match.note and match.note not in notes:
                notes.append(match.note)
            if match:
                return AnswerScore(score=1.0, status="ok", sql=sql, note="; ".join(notes) or None)
        return AnswerScore(score=0.0, status="ok", sql=sql, note="; ".join(notes) or None)
