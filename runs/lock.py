"""Locks on files in the run folder (`fcntl.flock`): the kernel releases them when the process
that holds them dies, even by SIGKILL, so a lock never outlives its holder and needs no cleanup.

- `worker.lock`: held by the worker process itself for its whole life; at most one worker per
  run folder, and "is a worker alive here?" is answered by the kernel, not by a pid that may
  have been reused.
- `control.lock`: held by a launch or a resume while it checks the state and starts the worker,
  so two resumes released together cannot both start one.
- `status.lock`: held for the few microseconds of a read-change-write of status.json, so two
  writers (the launcher recording the process group, the worker recording its pid) never undo
  each other's change.

flock locks belong to an open file, not to a process: every `os.open` here is a separate lock
holder, threads of one process included, and the descriptors are not inherited by children
(PEP 446), so a child never keeps a parent's lock alive.
"""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from runs.errors import RunBusy, RunsError

WORKER_LOCK, CONTROL_LOCK, STATUS_LOCK = "worker.lock", "control.lock", "status.lock"
_RETRY_S = 0.01


def _acquire(fd: int, wait_s: float) -> bool:
    """Take an exclusive lock on `fd`, retrying for up to `wait_s` seconds; False if still held."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_RETRY_S)


@contextmanager
def _held(path: Path, wait_s: float) -> Iterator[int | None]:
    """The open, locked descriptor of `path` (None when another holder kept it for `wait_s`)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        yield fd if _acquire(fd, wait_s) else None
    finally:
        os.close(fd)  # closing the last descriptor of the open file releases the lock


@contextmanager
def worker_lock(run_dir: str | Path, wait_s: float = 2.0) -> Iterator[None]:
    """Hold `worker.lock` for the life of the `with` block (the worker's life), or raise RunBusy.

    `wait_s` covers readers that probe the lock (`lock_holder`) for a few microseconds; a worker
    that holds it keeps it far longer than that."""
    run_dir = Path(run_dir)
    with _held(run_dir / WORKER_LOCK, wait_s) as fd:
        if fd is None:
            raise RunBusy(f"{run_dir} already has a worker (pid {lock_holder(run_dir)}): "
                          "wait for it to end, or cancel it")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for messages only: the lock is the truth
        yield


def lock_holder(run_dir: str | Path) -> int | None:
    """The pid of the worker holding `worker.lock` (0 when it has not written it yet), or None
    when no living process holds it. Probes with a shared lock, so it never blocks the worker."""
    try:
        fd = os.open(Path(run_dir) / WORKER_LOCK, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@contextmanager
def control_lock(run_dir: str | Path, wait_s: float = 10.0) -> Iterator[None]:
    """Hold `control.lock` while checking a run's state and starting its worker."""
    run_dir = Path(run_dir)
    with _held(run_dir / CONTROL_LOCK, wait_s) as fd:
        if fd is None:
            raise RunBusy(f"{run_dir} is being launched or resumed by another process: try again in a moment")
        yield


@contextmanager
def status_lock(run_dir: str | Path, wait_s: float = 10.0) -> Iterator[None]:
    """Hold `status.lock` around one read-change-write of status.json."""
    run_dir = Path(run_dir)
    with _held(run_dir / STATUS_LOCK, wait_s) as fd:
        if fd is None:
            raise RunsError(f"{run_dir / STATUS_LOCK} stayed locked for {wait_s:.0f} s: "
                            "a process writing the status is stuck")
        yield
