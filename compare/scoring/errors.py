"""The scorers' user errors: a ValueError, so the command line prints one line and exits 2."""
from __future__ import annotations


class ScoringError(ValueError):
    """Scoring cannot start because of something the user can fix (a scorer name, a file, a dump)."""


def database_message(exc: Exception) -> str:
    """The database's primary message ('relation "x" does not exist'), else the error's first line."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return primary or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
