"""Is a run's worker alive, and if not, why did it die? Also: a child worker that the kernel
ends with its parent.

A worker is alive while it holds `worker.lock` (the kernel drops the lock when the process
dies). Before it has taken the lock it is "starting": its launcher (the `sh` wrapper, whose
pid is the process group) is alive and has not yet written an exit code. A run whose worker is
neither is marked failed, with the exit code or signal and the last lines of its log.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

import psutil

from runs.errors import RunWriteError
from runs.files import EXIT_CODE_FILE, STATUS_FILE, tail_log
from runs.lock import lock_holder
from runs.status import RunStatus, change_status, load_status

PARENT_PID_ENV = "FTADVISOR_PARENT_PID"  # set for a child worker: the pid it must not outlive
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def process_alive(pid: int | None, create_time: float | None) -> bool:
    """True when `pid` runs and is the same process (same create time, so not a reused pid)."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return create_time is None or abs(proc.create_time() - create_time) < 0.05
    except psutil.Error:
        return False


def group_alive(pgid: int | None) -> bool:
    """True while any non-zombie process is in process group `pgid`."""
    if not pgid:
        return False
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return False


def exit_code(run_dir: Path) -> int | None:
    """The worker's exit status as its waiter wrote it (128 + N for a death by signal N)."""
    path = run_dir / EXIT_CODE_FILE
    if not path.exists():
        return None
    text = path.read_text().strip()
    return int(text) if text.lstrip("-").isdigit() else -1


def death_reason(run_dir: Path, status: RunStatus) -> str:
    """Why a worker that never recorded an end is gone: exit code or signal, and the log tail."""
    code = exit_code(run_dir)
    if code is None:
        why = f"the worker process ({status.pid or status.pgid}) is gone and left no exit code"
    elif code > 128:  # sh reports a death by signal N as 128 + N
        name = signal.Signals(code - 128).name if code - 128 in signal.valid_signals() else "?"
        why = f"the worker was killed by signal {code - 128} ({name})"
        if code - 128 == signal.SIGKILL:
            why += "; when nobody killed it, that is usually the out-of-memory killer (see `dmesg`)"
    else:
        why = f"the worker exited with code {code} without recording a result"
    tail = tail_log(run_dir, 200)
    if "OutOfMemoryError" in tail or "MemoryError" in tail:
        why += "; the log shows an out-of-memory error"
    last = [line for line in tail.splitlines() if line.strip()][-3:]
    return why + (". Last log lines: " + " | ".join(last) if last else "")


def worker_gone(run_dir: Path, status: RunStatus) -> bool:
    """True when a queued or running run has no worker that is alive or starting."""
    if status.done or lock_holder(run_dir) is not None:
        return False
    if status.pid is None and status.pgid is None:
        return False  # queued without a process: nobody launched it yet
    if exit_code(run_dir) is None:
        if status.pgid is not None:  # started through the wrapper: alive while it waits
            return not process_alive(status.pgid, status.detail.get("launcher_create_time"))
        return not process_alive(status.pid, status.pid_create_time)  # a child or in-process worker
    return True


def refresh_status(run_dir: str | Path) -> RunStatus:
    """The run's status, after marking a queued/running run whose worker is gone as failed (with
    why, and its running stage failed too). Writes status.json when it marks; `load_status`
    only reads."""
    run_dir = Path(run_dir)
    status = load_status(run_dir)
    if not worker_gone(run_dir, status):
        return status
    # Decide again under the status lock: the worker may have recorded its end meanwhile.
    try:
        return change_status(run_dir, lambda s: s.ended("failed", death_reason(run_dir, s))
                             if worker_gone(run_dir, s) else None)
    except (OSError, RunWriteError) as exc:  # a read-only or full disk: the verdict, unrecorded
        why = getattr(exc, "strerror", None) or str(exc)
        return status.ended("failed", f"{death_reason(run_dir, status)}; {run_dir / STATUS_FILE} could not be "
                            f"updated ({why})")


def die_with_parent() -> None:
    """In a child worker (PARENT_PID_ENV set), have the kernel SIGKILL this process when its
    parent dies (prctl PR_SET_PDEATHSIG), so a killed comparison worker leaves no tuning worker
    training on. Called first thing in the child rather than in a `preexec_fn`: the parent has
    torch's threads, and Python code between fork and exec in such a process can deadlock.
    The parent may die before the prctl: then getppid() is no longer it, and we end at once."""
    parent = os.environ.pop(PARENT_PID_ENV, None)
    if not parent or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != int(parent):
        os.kill(os.getpid(), signal.SIGKILL)  # as if the signal had come: the parent is gone


def kill_group(pgid: int, wait_s: float = 5.0) -> bool:
    """SIGTERM the group, then SIGKILL what is left; True when nothing of it survives."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return True
        deadline = time.time() + wait_s
        while time.time() < deadline and group_alive(pgid):
            time.sleep(0.1)
        if not group_alive(pgid):
            return True
    return False
