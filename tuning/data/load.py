"""`load_examples`: read a file, find its shape (or apply the mapping), normalise every record,
and collect every problem (file, line, field) up to a cap."""
from __future__ import annotations

from pathlib import Path

from common.vocabulary import Recipe
from tuning.data.readers import read_records
from tuning.data.schemas import FieldMapping, LoadedDataset, Problem
from tuning.data.shapes import Shape, detect_shape, normalise, shape_from_mapping, shape_hint


class ProblemLog:
    """Collects the problems of one file; `problems()` gives the first `cap` in line order."""

    def __init__(self, file: str, cap: int) -> None:
        self.file, self.cap = file, cap
        self.found: list[tuple[int, str | None, str]] = []

    def add(self, line: int | None, field: str | None, message: str) -> None:
        self.found.append((line or 0, field, message))

    def problems(self) -> list[Problem]:
        ordered = sorted(self.found, key=lambda p: p[0])  # stable: a line's problems keep their order
        return [Problem(file=self.file, line=line or None, field=field, message=message)
                for line, field, message in ordered[: self.cap]]


def load_examples(
    path: str | Path,
    mapping: FieldMapping | None = None,
    *,
    kind: Recipe = "sft",
    max_problems: int = 50,
) -> LoadedDataset:
    """Every valid example of the file, its shape and every problem found (up to `max_problems`).

    Raises `DatasetError` only when the file cannot be read at all (missing, unsupported type).
    """
    path = Path(path)
    raw = read_records(path)
    log = ProblemLog(path.name, max_problems)
    for line, message in raw.problems:
        log.add(line, None, message)
    columns = raw.columns()
    result = LoadedDataset(
        path=str(path), format=raw.format, kind=kind, columns=columns, total=len(raw.rows) + raw.unreadable
    )
    shape = shape_from_mapping(mapping, kind) if mapping else detect_shape([r for _, r in raw.rows], kind)
    if shape is None:
        if raw.rows:
            found = ", ".join(columns) or "none"
            log.add(None, None, f"no recognised shape: columns found: {found}; {shape_hint(kind)}")
        elif not log.found:
            log.add(None, None, "no examples in the file")
        return _finish(result, log)
    result.shape = shape.name
    header_line = 1 if raw.format == "csv" else None
    absent = [c for c in shape.required_columns() if c not in columns]
    if raw.rows and absent:  # a column no record has: say it once, naming what the file has
        for column in absent:
            found = ", ".join(columns)
            hint = _flag_hint(column, shape)
            log.add(header_line, column, f"no column '{column}' in the file (columns found: {found}){hint}")
        return _finish(result, log)
    for line, record in raw.rows:
        norm = normalise(record, shape, line)
        for field, message in norm.problems:
            log.add(line, field, message)
        if norm.example is not None:
            result.examples.append(norm.example)
    if not result.examples and not log.found:
        log.add(None, None, "no examples in the file")
    return _finish(result, log)


def _flag_hint(column: str, shape: Shape) -> str:
    role = next((r for r, c in shape.columns.items() if c == column), None)
    if role is None:
        return "; fix --prompt-template or add the column"
    return f"; use --{role}-field to name the column that holds the {role}"


def _finish(result: LoadedDataset, log: ProblemLog) -> LoadedDataset:
    result.problems, result.problems_total = log.problems(), len(log.found)
    return result
