"""What the scorers read and write: `ScoringRow` in, `ScoringResult` out (per answer, per scorer)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# ok: scored as usual; error: the answer failed (not JSON, the query errored or was refused, the
# user's scorer raised), scores 0; timeout: the query ran past the statement timeout, scores 0;
# excluded: not the answer's fault (its database is missing, the reference itself fails), no score.
Status = Literal["ok", "error", "timeout", "excluded"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoringRow(_Model):
    """One answer to score, with its question, reference and the raw dataset row (all its columns)."""

    question: str
    answer: str
    reference: str
    row: dict[str, Any] = Field(default_factory=dict, description="The dataset row the question came from.")


class AnswerScore(_Model):
    """One scorer's verdict on one answer."""

    score: float | None = Field(ge=0, le=1, description="0..1; None when excluded.")
    status: Status
    error: str | None = Field(None, description="Why it failed or was excluded, for the reader.")
    field_agreement: float | None = Field(
        None, ge=0, le=1, description="json: share of the reference's leaf fields the answer has, equal."
    )
    sql: str | None = Field(None, description="sql-exec: the query taken from the answer.")
    note: str | None = Field(None, description="A cap that applied (the reference's alternatives, the column "
                             "matching), for the reader.")


class ScorerSummary(_Model):
    """One scorer over all answers of one call."""

    mean: float | None = Field(description="Mean score over the scored (not excluded) answers; None if none.")
    scored: int
    errors: int
    timeouts: int
    excluded: int
    field_agreement: float | None = Field(
        None, description="json: mean field agreement over the answers whose reference is JSON."
    )


class DatabaseInfo(_Model):
    """The PostgreSQL that sql-exec ran on."""

    embedded: bool = Field(description="A private server started for the scoring (else the user's sql_url).")
    start_s: float | None = Field(None, description="Private server: initdb + start, in seconds.")
    load_s: dict[str, float] = Field(default_factory=dict, description="Private server: seconds to load each dump.")
    queries: int = Field(0, description="Queries run so far (cached reference results are not run again).")
    query_s: float = Field(0.0, description="Seconds spent running them.")


class ScoringResult(_Model):
    per_answer: list[dict[str, AnswerScore]] = Field(description="Aligned with the rows: scorer name -> its score.")
    summaries: dict[str, ScorerSummary]
    database: DatabaseInfo | None = None


def summarize(scores: list[AnswerScore]) -> ScorerSummary:
    """Mean over the answers not excluded; errors and timeouts counted apart (both score 0)."""
    scored = [s.score for s in scores if s.score is not None]
    agreement = [s.field_agreement for s in scores if s.field_agreement is not None]
    return ScorerSummary(
        mean=sum(scored) / len(scored) if scored else None,
        scored=len(scored),
        errors=sum(s.status == "error" for s in scores),
        timeouts=sum(s.status == "timeout" for s in scores),
        excluded=sum(s.status == "excluded" for s in scores),
        field_agreement=sum(agreement) / len(agreement) if agreement else None,
    )
