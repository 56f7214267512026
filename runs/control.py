"""Cancel, resume and wait: what a user (the CLI, a page) does to a run that exists."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from runs.errors import RunBusy, RunsError
from runs.files import CANCEL_FILE
from runs.launch import start_worker
from runs.liveness import group_alive, kill_group, process_alive, refresh_status
from runs.lock import control_lock, lock_holder
from runs.status import RunStatus, change_status, load_status

EXIT_GRACE_S = 5.0  # how long a worker that has recorded its end may take to exit and free the run


def cancel_requested(run_dir: str | Path) -> bool:
    return (Path(run_dir) / CANCEL_FILE).exists()


def request_cancel(run_dir: str | Path) -> None:
    """Ask the worker to stop at the end of its current step (it saves a checkpoint first)."""
    (Path(run_dir) / CANCEL_FILE).write_text(str(time.time()))


def cancel(run_dir: str | Path, grace_s: float = 30.0) -> RunStatus:
    """Ask the worker to stop after the current step (it saves a checkpoint and marks the run
    cancelled); after `grace_s` end the whole process group, and make sure it is gone."""
    run_dir = Path(run_dir)
    status = refresh_status(run_dir)
    if status.done:
        return status
    request_cancel(run_dir)
    deadline = time.time() + grace_s
    while time.time() < deadline:
        status = refresh_status(run_dir)
        if status.done and not group_alive(status.pgid):
            break
        time.sleep(0.2)
    if group_alive(status.pgid) and not kill_group(status.pgid):
        raise RunsError(f"process group {status.pgid} of {run_dir} survived SIGKILL")
    why = f"stopped by cancel: the worker did not stop within {grace_s:.0f} s, its processes were ended"
    # Killed before it could record the cancel (or marked failed meanwhile): it was a cancel.
    return change_status(run_dir, lambda s: s.ended("cancelled", why) if not s.done or s.state == "failed" else None)


def reset_for_resume(run_dir: str | Path, *, wait_s: float = 0.0) -> RunStatus:
    """Make a cancelled or failed run (or one never started) queued, for a worker to continue it.
    Waits up to `wait_s` for a process still holding the run (a worker, or the launcher about to
    write its exit code) to exit, then raises RunBusy; raises RunsError for a run that is still
    going or has completed. Holds `control.lock` while it decides."""
    load_status(run_dir)  # a folder that is no run says so before any lock file is made
    with control_lock(run_dir):
        return _reset(Path(run_dir), wait_s)


def _holder(run_dir: Path, status: RunStatus) -> str | None:
    """Which process still holds the run: its worker (the lock), or the launcher that waits for
    it and writes its exit code (a restart before that write would find a stale exit code)."""
    pid = lock_holder(run_dir)
    if pid is not None:
        return f"a worker (pid {pid})"
    if status.pgid and process_alive(status.pgid, status.detail.get("launcher_create_time")):
        return f"a worker starting or ending (launcher pid {status.pgid})"
    return None


def _reset(run_dir: Path, wait_s: float) -> RunStatus:
    deadline = time.time() + wait_s
    while True:
        status = refresh_status(run_dir)
        holder = _holder(run_dir, status)
        if holder is None or time.time() >= deadline:
            break
        time.sleep(0.05)
    if holder is not None:
        raise RunBusy(f"{run_dir} still has {holder}: wait for it to end, or cancel it")
    never_started = status.state == "queued" and status.pid is None and status.pgid is None
    if not status.done and not never_started:
        raise RunsError(f"{run_dir} is still {status.state}: cancel it first, or wait")
    if status.state == "completed":
        raise RunsError(f"{run_dir} has completed: there is nothing to resume")
    (run_dir / CANCEL_FILE).unlink(missing_ok=True)
    # No pid nor pgid: "queued, not launched yet" until the new worker's launcher is recorded.
    return change_status(run_dir, lambda s: s.model_copy(update={
        "state": "queued", "error": None, "finished_at": None, "pid": None, "pid_create_time": None, "pgid": None}))


def resume(run_dir: str | Path) -> RunStatus:
    """Start the worker again on this folder; it continues from the newest complete checkpoint
    (or stage). Of two resumes at once, one starts the worker and the other raises RunsError."""
    run_dir = Path(run_dir)
    load_status(run_dir)
    with control_lock(run_dir):
        # A run that has ended may still have its processes exiting: give them a moment.
        _reset(run_dir, EXIT_GRACE_S if load_status(run_dir).done else 0.0)
        return start_worker(run_dir)


def wait(run_dir: str | Path, timeout_s: float | None = None, poll_s: float = 0.5,
         on_status: Callable[[RunStatus], None] | None = None) -> RunStatus:
    """Poll until the run ends (or `timeout_s` passes); `on_status(status)` sees each poll."""
    deadline = None if timeout_s is None else time.time() + timeout_s
    while True:
        status = refresh_status(run_dir)
        if on_status is not None:
            on_status(status)
        if status.done or (deadline is not None and time.time() > deadline):
            return status
        time.sleep(poll_s)
