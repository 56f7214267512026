"""The files of a run folder and how they are written: whole or not at all (`write_atomic`), or
one complete line at a time (`append_jsonl`), so a worker killed at any moment leaves files a
reader and a resumed worker can trust.

Kills (SIGKILL, the out-of-memory killer) lose nothing already written: the data is in the page
cache. Surviving a power loss would also need fsync, which these files do not pay for.
"""
from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable

from runs.errors import RunDamaged, RunWriteError

SPEC_FILE, STATUS_FILE, METRICS_FILE, LOG_FILE = "spec.json", "status.json", "metrics.jsonl", "log.txt"
CANCEL_FILE = "cancel_requested"  # its presence asks the worker to stop at the end of the step
EXIT_CODE_FILE = "exit_code"  # how the worker process ended, written by whoever waited for it
_TAIL_BYTES = 64 * 1024  # the most of log.txt a tail reads
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_WHAT_TO_DO = {errno.ENOSPC: "free space on that disk (or choose another output folder)",
               errno.EDQUOT: "free space on that disk (or choose another output folder)",
               errno.EROFS: "choose an output folder on a disk that can be written"}


def cannot_write(where: str | Path, exc: OSError) -> RunWriteError:
    """One line for a write the system refused: where, why, and what to do about it."""
    line = f"cannot write {where}: {exc.strerror or exc}"
    if exc.errno in _WHAT_TO_DO:
        line += f": {_WHAT_TO_DO[exc.errno]}"
    return RunWriteError(line, exc.errno, exc.strerror)


def write_atomic(path: Path, text: str) -> Path:
    """Write a file so readers (and resume) see all of it or none of it (tmp + os.replace).
    A write the disk refuses (full, read-only) removes its temporary file and raises
    RunWriteError with one line."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        os.replace(tmp, path)  # atomic on POSIX: readers see the old or the new file, never half
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only disk: it was never made
        raise cannot_write(path, exc) from None
    return path


def overwrite_in_place(path: Path, text: str) -> bool:
    """Last resort on a full disk: `text` written over `path`'s own blocks, which needs no new
    block when it is no longer than what the file already holds on disk (st_blocks). Not
    atomic: a reader may meet a half-written file (read as damaged) for those microseconds.
    False when it cannot be done."""
    data = text.encode()
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError:
        return False
    try:
        if len(data) > os.fstat(fd).st_blocks * 512:
            return False
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def read_json_file(path: Path, what: str) -> Any:
    """A run's JSON file; FileNotFoundError when the folder is no run, RunDamaged when it is cut or garbled."""
    if not path.exists():
        raise FileNotFoundError(f"{path.parent} is not a run folder (no {path.name})")
    try:
        return json.loads(path.read_text())
    except OSError as exc:  # a folder in its place, an I/O error, no permission
        raise RunDamaged(f"{path} cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDamaged(f"{path} is damaged ({what} is not whole JSON: {exc}): it was cut short or edited; "
                         "this run cannot be followed or resumed") from None


def read_spec(run_dir: str | Path) -> dict[str, Any]:
    spec = read_json_file(Path(run_dir) / SPEC_FILE, "the run's spec")
    if not isinstance(spec, dict):
        raise RunDamaged(f"{Path(run_dir) / SPEC_FILE} is damaged (expected a JSON object)")
    return spec


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete records of a JSONL file. A line that does not parse (a write cut short by a
    kill, possibly glued to the next append) is skipped, so the records after it still count."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one record as one line. A last line left without its newline by a kill is cut off
    first, so the new record starts a line of its own."""
    line = (json.dumps(record) + "\n").encode()
    with open(path, "ab+") as fh:
        end = fh.seek(0, os.SEEK_END)
        keep = _complete_length(fh, end)
        if keep != end:
            fh.truncate(keep)
        fh.write(line)  # one write of one line: O_APPEND puts it after everything written before


def _complete_length(fh, end: int) -> int:
    """Bytes of `fh` up to and including its last newline (all of it when it ends with one)."""
    pos = end
    while pos > 0:
        start = max(0, pos - 4096)
        fh.seek(start)
        chunk = fh.read(pos - start)
        if pos == end and chunk.endswith(b"\n"):
            return end
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        pos = start
    return 0


def keep_jsonl(path: Path, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Rewrite `path` (atomically) with only the records `keep` accepts; returns how many were dropped."""
    rows = read_jsonl(path)
    kept = [r for r in rows if keep(r)]
    if path.exists():
        write_atomic(path, "".join(json.dumps(r) + "\n" for r in kept))
    return len(rows) - len(kept)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    return read_jsonl(Path(run_dir) / METRICS_FILE)


def append_metrics(run_dir: str | Path, record: dict[str, Any]) -> None:
    append_jsonl(Path(run_dir) / METRICS_FILE, record)


def tail_log(run_dir: str | Path, lines: int = 20) -> str:
    """The last `lines` lines of log.txt ("" for 0 or less, or when there is no log)."""
    path = Path(run_dir) / LOG_FILE
    if lines <= 0 or not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - _TAIL_BYTES))  # the tail is all we show: read at most 64 KiB
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])
