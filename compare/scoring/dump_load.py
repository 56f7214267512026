"""Run the checked statements of a dump (`dump_check.read_dump`) into its database: through the
driver (no psql, no shell), as the role the database was made for, in one transaction, under one
timeout for the whole dump and the run's cancel request.

Each statement goes alone through the extended protocol (psycopg's `binary=True` forces it), so
the server refuses a text that holds a second command. COPY ... FROM stdin cannot (psycopg sends
COPY with the simple protocol): the checker allows it no ';', and `standard_conforming_strings`
is set on just before it, so the server reads its strings as the checker did (a dump could have
switched it off with a computed `set_config` the checker cannot see).
"""
from __future__ import annotations

from compare.scoring.dump_check import DumpStatement
from compare.scoring.errors import ScoringError, database_message
from compare.scoring.limits import Limits, Watch

LOAD_TIMEOUT_S = 600.0  # per dump; the sql-eval dumps take 0.1-0.3 s each
CONNECT_TIMEOUT_S = 10


def run_dump(url: str, name: str, statements: list[DumpStatement], *, limits: Limits | None = None,
             timeout_s: float = LOAD_TIMEOUT_S) -> None:
    """Run `statements` on `url` and commit; ScoringError naming `name` and the line that failed,
    Stopped when the run is cancelled or the stage's deadline passes."""
    import psycopg

    current = statements[0] if statements else None
    with Watch(limits) as watch:
        try:
            with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, application_name="ftadvisor-load") as conn, \
                    watch.query(conn, timeout_s), conn.cursor() as cursor:
                for current in statements:
                    if current.copy_data is None:
                        cursor.execute(current.sql, binary=True)
                        continue
                    cursor.execute("SET standard_conforming_strings = on", binary=True)
                    with cursor.copy(current.sql) as copy:
                        copy.write(current.copy_data)
        except psycopg.errors.QueryCanceled:
            why = watch.fired
            if why is not None and why.scope == "cancel":
                raise why from None
            within = (f"the scoring's deadline ({watch.limits.stage_s:g} s)" if why is not None and why.scope == "stage"
                      else f"{timeout_s:g} s")
            where = f" (line {current.line} was running)" if current else ""
            raise ScoringError(f"sql_dumps: {name} did not load within {within}{where}") from None
        except psycopg.Error as exc:
            where = f" line {current.line}" if current else ""
            raise ScoringError(f"sql_dumps: {name}{where} did not load: {database_message(exc)}") from None

