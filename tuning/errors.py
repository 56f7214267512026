"""Errors the tuning package raises for bad input; messages name the file, line and field."""
from __future__ import annotations

import os


class TuningError(ValueError):
    """Bad tuning input: a spec that cannot run, a tokenizer that cannot load, ..."""


class DatasetError(TuningError):
    """A dataset that cannot be used. `file`, `line` (1-based) and `field` say where, when known.

    `problems` holds every problem found (each a `tuning.data.Problem`) when several were.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike | None = None,
        line: int | None = None,
        field: str | None = None,
        problems: list | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line, self.field = line, field
        self.problems = list(problems or [])
        self.message = message
        where = " ".join(p for p in (self.file, f"line {line}" if line else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


class DatasetRefused(DatasetError):
    """The data check found problems that block training; `report` is the whole DatasetReport
    (its `error_lines()` say one problem per line)."""

    def __init__(self, report, *, file: str | os.PathLike | None = None) -> None:
        self.report = report
        super().__init__("the dataset failed validation: " + "; ".join(report.error_lines()[:10]), file=file)
