"""File readers: JSONL, JSON, CSV, Parquet -> raw records, each with its 1-based line (JSONL, CSV:
the file's line where the record starts; JSON, Parquet: the record's index). A reader never
stops at a bad record: it notes the problem and keeps reading."""
from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuning.errors import DatasetError

FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet",
}


@dataclass
class RawData:
    format: str
    rows: list[tuple[int, Any]] = field(default_factory=list)  # (line, parsed record)
    problems: list[tuple[int | None, str]] = field(default_factory=list)  # (line, message)
    header: list[str] | None = None  # CSV/Parquet: the columns the file declares
    unreadable: int = 0  # records that could not be parsed (each has a problem)

    def columns(self) -> list[str]:
        """Declared columns, else the ordered union of the records' keys."""
        if self.header is not None:
            return list(self.header)
        seen: dict[str, None] = {}
        for _, rec in self.rows:
            if isinstance(rec, dict):
                seen.update(dict.fromkeys(rec))
        return list(seen)


def detect_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"unsupported file type '{path.suffix or '(none)'}' (use .jsonl, .json, .csv or .parquet)", file=path.name
        )
    return fmt


def read_records(path: str | Path) -> RawData:
    path = Path(path)
    fmt = detect_format(path)
    if not path.is_file():
        raise DatasetError("no such file", file=str(path))
    return {"jsonl": _read_jsonl, "json": _read_json, "csv": _read_csv, "parquet": _read_parquet}[fmt](path)


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON ({exc.msg} at column {exc.colno})"


def _read_jsonl(path: Path) -> RawData:
    data = RawData("jsonl")
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                data.problems.append((line_no, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
                data.unreadable += 1
                continue
            if not text.strip():
                continue
            try:
                data.rows.append((line_no, json.loads(text)))
            except json.JSONDecodeError as exc:
                data.problems.append((line_no, _json_error(exc)))
                data.unreadable += 1
    return data


def _read_json(path: Path) -> RawData:
    data = RawData("json")
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        data.problems.append((None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return data
    except json.JSONDecodeError as exc:
        data.problems.append((exc.lineno, _json_error(exc)))
        return data
    if isinstance(value, dict) and isinstance(value.get("data"), list):
        value = value["data"]
    if not isinstance(value, list):
        data.problems.append((None, 'expected a JSON list of records or {"data": [...]}'))
        return data
    data.rows = list(enumerate(value, start=1))
    return data


def _read_csv(path: Path) -> RawData:
    data = RawData("csv")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long SQL or documents in one cell
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            data.header = next(reader, [])
            end = reader.line_num  # records may span lines (quoted newlines): track where each starts
            for row in reader:
                start, end = end + 1, reader.line_num
                if not row:
                    continue
                if len(row) != len(data.header):
                    data.problems.append((start, f"expected {len(data.header)} columns, found {len(row)}"))
                    data.unreadable += 1
                    continue
                data.rows.append((start, dict(zip(data.header, row))))
    except UnicodeDecodeError as exc:
        data.problems.append((None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
    except csv.Error as exc:
        data.problems.append((None, f"invalid CSV ({exc})"))
    return data


def _read_parquet(path: Path) -> RawData:
    import pyarrow.parquet as pq  # lazily: pyarrow takes a moment to import

    data = RawData("parquet")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        data.problems.append((None, f"cannot read Parquet ({exc})"))
        return data
    data.header = list(table.schema.names)
    data.rows = list(enumerate(table.to_pylist(), start=1))
    return data
