"""File readers: JSONL, JSON, CSV, Parquet -> raw records, each with its 1-based line (JSONL, CSV:
the file's line where the record starts; JSON, Parquet: the record's index). A reader never
stops at a bad record: it notes the problem and keeps reading."""
from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from common.paths import resolve_user_path
from common.text import bad_byte, utf8_text
from tuning.errors import DatasetError

DataFormat = Literal["jsonl", "json", "csv", "parquet"]
# File suffix -> format. The pages' uploaders take DATA_SUFFIXES, so they take what the readers read.
FORMATS: dict[str, DataFormat] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet",
}
DATA_SUFFIXES: tuple[str, ...] = tuple(FORMATS)


@dataclass
class RawData:
    format: DataFormat
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


def detect_format(path: Path) -> DataFormat:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"unsupported file type '{path.suffix or '(none)'}' (use .jsonl, .json, .csv or .parquet)", file=path.name
        )
    return fmt


def read_records(path: str | Path) -> RawData:
    resolve_user_path(path, "data")  # a NUL byte, an overlong path or name: one line before any system call
    path = Path(path)
    if path.is_dir():
        raise DatasetError("is a folder: give a file (.jsonl, .json, .csv or .parquet)", file=str(path))
    fmt = detect_format(path)
    if not path.is_file():  # a symlink loop was said above (ValueError), not "no such file"
        raise DatasetError("no such file", file=str(path))
    return {"jsonl": _read_jsonl, "json": _read_json, "csv": _read_csv, "parquet": _read_parquet}[fmt](path)


_HINT = "re-save the file as UTF-8"
_CSV_HINT = "re-save the file as UTF-8 (a spreadsheet's 'CSV UTF-8')"


def not_utf8(raw: bytes, exc: UnicodeDecodeError, *, first_line: int = 1, hint: str = _HINT) -> tuple[int, str]:
    """(line, message) for the first byte of `raw` that is not UTF-8; `first_line` is raw's first line."""
    where = bad_byte(raw, exc)
    return first_line + where.line - 1, f"not UTF-8 text (byte 0x{where.byte:02x} at column {where.column}): {hint}"


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON ({exc.msg} at column {exc.colno})"


# json's decoder recurses once per level and raises RecursionError past the interpreter's limit
# (sys.getrecursionlimit(), 1,000 by default, less what the stack already holds).
TOO_DEEP = "invalid JSON (nested too deeply: more levels than Python's JSON reader takes, about 1,000)"


def _read_jsonl(path: Path) -> RawData:
    data = RawData("jsonl")
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                text = utf8_text(raw)
            except UnicodeDecodeError as exc:
                data.problems.append(not_utf8(raw, exc, first_line=line_no))
                data.unreadable += 1
                continue
            if not text.strip():
                continue
            try:
                data.rows.append((line_no, json.loads(text)))
            except json.JSONDecodeError as exc:
                data.problems.append((line_no, _json_error(exc)))
                data.unreadable += 1
            except RecursionError:
                data.problems.append((line_no, TOO_DEEP))
                data.unreadable += 1
    return data


def _read_json(path: Path) -> RawData:
    data = RawData("json")
    raw = path.read_bytes()
    try:
        value = json.loads(utf8_text(raw))
    except UnicodeDecodeError as exc:
        data.problems.append(not_utf8(raw, exc))
        return data
    except json.JSONDecodeError as exc:
        data.problems.append((exc.lineno, _json_error(exc)))
        return data
    except RecursionError:
        data.problems.append((None, TOO_DEEP))
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
    raw = path.read_bytes()
    try:  # decoded whole, so a bad byte's line is known (a file object decodes 8 KB chunks)
        text = utf8_text(raw)
    except UnicodeDecodeError as exc:
        data.problems.append(not_utf8(raw, exc, hint=_CSV_HINT))
        return data
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
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
            data.rows.append((start, dict(zip(data.header, row, strict=True))))
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
