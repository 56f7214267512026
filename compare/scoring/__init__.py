"""Task-aware scorers for a comparison's answers, next to exact match, token F1 and ROUGE-L:

- `json`: the answer is JSON (optionally against a JSON Schema or required keys); field
  agreement with a JSON reference (`json_format`);
- `sql-exec`: execution accuracy as defog-ai/sql-eval defines it, on a real PostgreSQL: a private
  server loaded from dumps (`postgres`), or the user's (`sql_exec`, `sql_compare`, `sql_extract`);
- `python:MODULE:FUNCTION`: the user's own `(question, answer, reference, row) -> float` (`user_scorer`).

    spec = ScorerSpec(names="json,sql-exec", sql_db_field="db_name", sql_dumps=["schemas/"])
    with ScoringSession(spec) as session:     # one database start for every arm
        result = session.score([ScoringRow(question=q, answer=a, reference=r, row=raw), ...])
    result.summaries["sql-exec"].mean, result.per_answer[0]["sql-exec"].error

Import-light: psycopg and jsonschema load inside the functions that use them.
"""
from compare.scoring.errors import ScoringError
from compare.scoring.registry import parse_scorer_names
from compare.scoring.results import AnswerScore, DatabaseInfo, ScorerSummary, ScoringResult, ScoringRow
from compare.scoring.session import ScoringSession, score_answers
from compare.scoring.spec import ScorerSpec

__all__ = [
    "AnswerScore", "DatabaseInfo", "ScorerSpec", "ScorerSummary", "ScoringError", "ScoringResult", "ScoringRow",
    "ScoringSession", "parse_scorer_names", "score_answers",
]
