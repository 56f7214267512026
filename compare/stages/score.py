"""The score stage: every arm's answers through the task-aware scorers (compare.scoring), in one
scoring session, so sql-exec starts and loads its database once (and runs each reference query
once) for all arms. Writes scores.json; the results stage puts the means in results.json and the
per-answer verdicts in answers.jsonl."""
from __future__ import annotations

from typing import TYPE_CHECKING

import runs
from compare import files
from compare.errors import Cancelled
from compare.records import Scores, Split, read_answers
from compare.scoring import ScoringResult, ScoringRow, ScoringSession
from compare.scoring.limits import Stopped

if TYPE_CHECKING:
    from compare.pipeline import Pipeline


def run(pipeline: Pipeline) -> None:
    """A cancel is honoured within a second, even inside a query (the session's limits watch it);
    the private server and its folder go with the session, however the stage ends."""
    try:
        _score(pipeline)
    except Stopped as stop:
        if stop.scope != "cancel":
            raise
        raise Cancelled() from None


def _score(pipeline: Pipeline) -> None:
    spec, split = pipeline.spec, pipeline.read(files.SPLIT, Split)
    raw = _raw_rows(spec)
    results: dict[str, ScoringResult] = {}
    with ScoringSession(spec.scoring, cancel_requested=lambda: runs.cancel_requested(pipeline.run_dir)) as session:
        if session.databases is not None:
            info = session.database_info()
            pipeline.log(f"score: database ready in {info.start_s or 0:.1f} s" + (
                f", dumps loaded in {sum(info.load_s.values()):.1f} s ({len(info.load_s)} databases)"
                if info.load_s else ""))
        for n, arm in enumerate(spec.arms, start=1):
            pipeline.check_cancel()
            answers = read_answers(pipeline.run_dir, arm)
            rows = [ScoringRow(question=row.question, answer=answers[row.id].answer if row.id in answers else "",
                               reference=row.reference, row=raw.get(row.source_line, {})) for row in split.eval]
            results[arm] = session.score(rows)
            pipeline.progress(n, len(spec.arms), force=True)
        database = session.database_info()
    pipeline.write(files.SCORES, Scores(scorers=spec.scoring.names, arms=results, database=database))


def _raw_rows(spec) -> dict[int, dict]:
    """source line -> the dataset row as read (every column), for scorers that need more than the
    question and the answer (sql-exec's database column, a user scorer's extra fields)."""
    from tuning.data.readers import read_records

    return {line: record for line, record in read_records(spec.data).rows if isinstance(record, dict)}
