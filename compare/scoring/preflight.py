"""What the scorers will need, checked at launch (`compare.launch.preflight`), so that a mistake
fails in one line before any model loads or trains, not at the score stage hours later: every
dump passes the statement check (`dump_check`, the file and line of the first refusal), a
private server's binaries are there, a `sql_url` answers and its role may run the queries
(`server_rights`), the database column is in the data, and a user scorer imports and defines
its function (`user_scorer.check_user_scorer`)."""
from __future__ import annotations

from typing import Any

from compare.scoring.errors import ScoringError


def validate_scoring(spec: Any) -> None:
    """Check the scorers of a comparison spec (`compare.spec.CompareSpec`); ScoringError if one
    cannot run."""
    scoring = spec.scoring
    if scoring is None:
        return
    from compare.scoring.user_scorer import check_user_scorer

    for name in scoring.user_scorers:  # imported now, not after the answering and training
        check_user_scorer(name)
    if "sql-exec" not in scoring.names:
        return
    from tuning.data.readers import read_records

    rows = [rec for _, rec in read_records(spec.data).rows if isinstance(rec, dict)]
    field = scoring.sql_db_field
    if field is not None and rows and not any(field in r for r in rows):
        raise ScoringError(f"sql_db_field: no row of {spec.data.name} has a {field!r} column "
                           f"(columns: {', '.join(sorted(rows[0])) or 'none'})")
    if scoring.sql_url is not None:
        from compare.scoring.server_rights import check_server

        names = sorted({str(r[field]).strip() for r in rows if field and str(r.get(field) or "").strip()})
        check_server(scoring.sql_url, names, scoring.sql_allow_superuser)
        return
    from compare.scoring.dump_check import read_dump
    from compare.scoring.postgres import find_bin_dir

    find_bin_dir()
    for dump in scoring.sql_dumps:
        read_dump(dump)
