"""The life of a worker process in its run folder, the same for every kind: take the run's
lock, record "running" with its pid, do the job, record how it ended (completed, cancelled, or
failed with why), and turn that into the process's exit code."""
from __future__ import annotations

import errno
import sys
import time
import traceback
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import psutil

from runs.errors import RunBusy, RunWriteError
from runs.files import DISK_FULL, cannot_write
from runs.liveness import die_with_parent
from runs.lock import worker_lock
from runs.status import change_status, update_status

EXIT_BUSY = 3  # another worker holds the run: this one did nothing, status.json untouched


def describe_failure(exc: BaseException) -> str:
    """The error line a failed run records: a user error's own message, else its type too."""
    return str(exc) if isinstance(exc, (ValueError, FileNotFoundError)) else f"{type(exc).__name__}: {exc}"


def run_worker(run_dir: str | Path, job: Callable[[], str], *,
               explain: Callable[[BaseException], str] = describe_failure, writer: bool = True) -> int:
    """Run `job()` (which returns "completed" or "cancelled") as the one worker of `run_dir`.

    `writer` is False for the ranks of a multi-process run other than rank 0: they neither lock
    nor write. Returns the exit code: 0 (also for a cancel), 1 failed, 130 interrupted, EXIT_BUSY
    when another worker holds the run."""
    run_dir = Path(run_dir)
    die_with_parent()
    try:
        with worker_lock(run_dir) if writer else nullcontext():
            return _run_locked(run_dir, job, explain, writer)
    except RunBusy as exc:
        print(f"not started: {exc}", file=sys.stderr, flush=True)
        return EXIT_BUSY


def _run_locked(run_dir: Path, job: Callable[[], str], explain: Callable[[BaseException], str], writer: bool) -> int:
    me = psutil.Process()
    try:
        if writer:
            update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time(),
                          started_at=time.time(), error=None, finished_at=None)
        outcome = job()
        if writer:
            update_status(run_dir, state=outcome, eta_s=None, finished_at=time.time())
        return 0
    except BaseException as exc:  # noqa: BLE001 - every ending is recorded, then turned into an exit code
        message = _disk_failure(exc, run_dir) or explain(exc)
        _print(traceback.format_exc())
        if writer:
            try:
                change_status(run_dir, lambda s: s.ended("failed", message))
            except (OSError, RunWriteError) as write_error:  # nothing can be written there: say it where we can
                _print(f"failed: {message}; the status could not be recorded either ({write_error})\n")
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def _disk_failure(exc: BaseException, run_dir: Path) -> str | None:
    """The one line for a write the disk refused (full, read-only), naming the file when the
    error does (a failed write() names none: then the run folder), and what to do."""
    if not isinstance(exc, OSError) or exc.errno not in (*DISK_FULL, errno.EROFS):
        return None
    line = str(cannot_write(exc.filename or f"in {run_dir}", exc))
    return f"{line} and resume the run" if exc.errno in DISK_FULL else line


def _print(text: str) -> None:
    """To stderr (the run's log.txt), which a full disk may refuse too."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except OSError:
        pass
