"""The comparison's user errors: a ValueError, so the CLI prints one line and exits 2."""
from __future__ import annotations


class CompareError(ValueError):
    """A comparison cannot start or continue because of something the user can fix."""


class Cancelled(Exception):
    """A cancel request was seen between two units of work (not an error: the run stops)."""
