"""The scorers' user errors: a ValueError, so the command line prints one line and exits 2."""
from __future__ import annotations


class ScoringError(ValueError):
    """Scoring cannot start because of something the user can fix (a scorer name, a file, a dump)."""
