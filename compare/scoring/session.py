"""One entry point for the comparison: open a session once (the database starts and loads once),
score every arm's answers in it, close it (the private server stops).

    with ScoringSession(spec, cancel_requested=lambda: runs.cancel_requested(run_dir)) as session:
        base = session.score(base_rows)       # ScoringResult
        rag = session.score(rag_rows)         # reference queries are not run again
    result = score_answers(spec, rows)        # the same for one batch

The session's limits (`limits.Limits`): spec.sql_deadline_s from the start (dumps loading
included), spec.sql_answer_deadline_s per answer, and the cancel request, looked at between
answers and while a query runs; a cancel raises `limits.Stopped` (scope "cancel").
"""
from __future__ import annotations

from collections.abc import Callable

from compare.scoring.errors import ScoringError
from compare.scoring.json_format import JsonScorer
from compare.scoring.limits import Limits, Stopped
from compare.scoring.postgres import PrivateServer
from compare.scoring.results import AnswerScore, DatabaseInfo, ScoringResult, ScoringRow, summarize
from compare.scoring.spec import ScorerSpec, load_json_schema
from compare.scoring.sql_exec import Databases, SqlExecScorer
from compare.scoring.user_scorer import UserScorer, load_user_scorer

Scorer = Callable[[ScoringRow], AnswerScore]


class ScoringSession:
    """The scorers of a spec, with their database, ready to score batches of answers."""

    def __init__(self, spec: ScorerSpec, cancel_requested: Callable[[], bool] | None = None):
        self.spec = spec
        self.scorers: dict[str, Scorer] = {}
        self.server: PrivateServer | None = None
        self.databases: Databases | None = None
        self.limits = Limits(stage_s=spec.sql_deadline_s, answer_s=spec.sql_answer_deadline_s,
                             cancel_requested=cancel_requested)

    def __enter__(self) -> ScoringSession:
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open(self) -> None:
        spec = self.spec
        # Cheap checks first: a broken user scorer fails before a server starts.
        users = {name: UserScorer(load_user_scorer(name)) for name in spec.user_scorers}
        for name in spec.names:
            if name == "json":
                self.scorers[name] = JsonScorer(_schema(spec), spec.json_required_keys)
            elif name == "sql-exec":
                self.scorers[name] = self._sql_scorer()
            else:
                self.scorers[name] = users[name]

    def _sql_scorer(self) -> SqlExecScorer:
        spec = self.spec
        if spec.sql_url is not None:
            self.databases = Databases(spec.sql_url, spec.sql_timeout_s, limits=self.limits, user_server=True,
                                       allow_privileged=spec.sql_allow_superuser)
            return SqlExecScorer(self.databases, spec.sql_db_field)
        self.server = PrivateServer()
        self.server.start()
        for dump in spec.sql_dumps:
            if self.limits.cancelled():
                raise Stopped("cancel", "the run was cancelled")
            self.server.load_dump(dump, limits=self.limits)
        self.databases = Databases(self.server.url_template(), spec.sql_timeout_s, known=set(self.server.databases),
                                   limits=self.limits)
        only = self.server.databases[0] if len(self.server.databases) == 1 else ""
        return SqlExecScorer(self.databases, spec.sql_db_field, default_db=only)

    def score(self, rows: list[ScoringRow]) -> ScoringResult:
        """Every scorer on every row; per-answer scores aligned with `rows`, and a summary per scorer."""
        self._check_db_field(rows)
        per_answer = []
        for row in rows:
            if self.limits.cancelled():
                raise Stopped("cancel", "the run was cancelled")
            per_answer.append({name: scorer(row) for name, scorer in self.scorers.items()})
        summaries = {name: summarize([answer[name] for answer in per_answer]) for name in self.scorers}
        return ScoringResult(per_answer=per_answer, summaries=summaries, database=self.database_info())

    def _check_db_field(self, rows: list[ScoringRow]) -> None:
        field = self.spec.sql_db_field
        if "sql-exec" in self.scorers and field and rows and not any(field in r.row for r in rows):
            columns = ", ".join(sorted(rows[0].row)) or "none"
            raise ScoringError(f"sql_db_field: no row has a {field!r} column (columns: {columns})")

    def database_info(self) -> DatabaseInfo | None:
        if self.databases is None:
            return None
        server = self.server
        return DatabaseInfo(embedded=server is not None, start_s=server.start_s if server else None,
                            load_s=dict(server.load_s) if server else {}, queries=self.databases.queries,
                            query_s=self.databases.query_s)

    def close(self) -> None:
        if self.databases is not None:
            self.databases.close()
        if self.server is not None:
            self.server.stop()


def _schema(spec: ScorerSpec):
    if spec.json_schema is None:
        return None
    try:
        return load_json_schema(spec.json_schema)
    except ValueError as exc:  # the file changed since the spec was checked
        raise ScoringError(str(exc)) from None


def score_answers(spec: ScorerSpec, rows: list[ScoringRow]) -> ScoringResult:
    """Open a session, score `rows`, close it."""
    with ScoringSession(spec) as session:
        return session.score(rows)
