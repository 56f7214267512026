"""Creating run folders and starting workers: detached (`start_worker`: its own session, so a
closed tab or a finished command does not stop it, and one `killpg` ends its whole tree), or as
a child that dies with its parent (`start_child`: the comparison's tuning sub-run).

Import-light on purpose: no torch here, the launcher only starts `python -m <worker> RUN_DIR`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import psutil
from pydantic import BaseModel

from runs.accelerate import accelerate_command
from runs.errors import RunsError
from runs.files import EXIT_CODE_FILE, LOG_FILE, SPEC_FILE, STATUS_FILE, cannot_write, read_spec, write_atomic
from runs.liveness import PARENT_PID_ENV
from runs.lock import CONTROL_LOCK, control_lock
from runs.status import RunStatus, change_status, update_status, write_status

# kind -> worker module run as `python -m MODULE RUN_DIR` (the spec's `kind` picks it).
WORKERS: dict[str, str] = {"tune": "tuning.worker", "compare": "compare.worker"}
_REPO_ROOT = Path(__file__).resolve().parents[1]


def worker_env() -> dict[str, str]:
    """The environment of a worker: unbuffered output, no progress bars (no \\r lines in log.txt),
    and this checkout importable from the run folder it runs in."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for quiet in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):
        env.setdefault(quiet, "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


def worker_command(run_dir: Path, spec: dict[str, Any]) -> list[str]:
    """`python -m <worker> RUN_DIR`, or `accelerate launch` for a spec asking for gpus > 1."""
    kind = spec.get("kind", "tune")
    if kind not in WORKERS:
        raise RunsError(f"unknown run kind {kind!r}: known kinds are {sorted(WORKERS)}")
    module = WORKERS[kind]
    if int(spec.get("gpus") or 1) > 1:
        return accelerate_command(run_dir, module, gpus=int(spec["gpus"]), sharding=spec.get("sharding", "none"),
                                  mixed_precision="no" if spec.get("device") == "cpu" else "bf16")
    return [sys.executable, "-m", module, str(run_dir)]


def _open_log(run_dir: Path, command: list[str]) -> IO[bytes]:
    log = open(run_dir / LOG_FILE, "ab")
    log.write(f"\n== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(command)}\n".encode())
    log.flush()
    return log


def start_worker(run_dir: str | Path) -> RunStatus:
    """Start the worker detached: new session, output to log.txt, exit code to a file."""
    run_dir = Path(run_dir).resolve()
    command = worker_command(run_dir, read_spec(run_dir))
    (run_dir / EXIT_CODE_FILE).unlink(missing_ok=True)
    # The shell waits for the worker and records how it ended ($? is 128+N for signal N).
    wrapper = ["/bin/sh", "-c", 'rc=0; "$@" || rc=$?; echo "$rc" > "$0"', str(run_dir / EXIT_CODE_FILE)]
    with _open_log(run_dir, command) as log:
        proc = subprocess.Popen(wrapper + command, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=worker_env(), start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it, so no zombie is left
    detail = {"launcher_create_time": _create_time(proc.pid), "command": command}
    return change_status(run_dir, lambda s: s.model_copy(update={"pgid": proc.pid, "detail": {**s.detail, **detail}}))


def start_child(run_dir: str | Path, module: str) -> subprocess.Popen:
    """Start `python -m module RUN_DIR` as our child, in our process group (a hard cancel of
    ours ends it too), killed by the kernel if we die (`runs.die_with_parent`). The caller waits
    for it and records its end with `record_exit`."""
    run_dir = Path(run_dir).resolve()
    command = [sys.executable, "-m", module, str(run_dir)]
    (run_dir / EXIT_CODE_FILE).unlink(missing_ok=True)
    env = dict(worker_env(), **{PARENT_PID_ENV: str(os.getpid())})
    with _open_log(run_dir, command) as log:
        child = subprocess.Popen(command, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env)
    # The child is the worker process itself: its pid tells whether it lives, even before it
    # has written a word (killed while starting, with us, it must not look "not launched yet").
    update_status(run_dir, pid=child.pid, pid_create_time=_create_time(child.pid))
    return child


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def record_exit(run_dir: str | Path, returncode: int) -> None:
    """Write a child's exit status as the wrapper shell would (128 + N for a death by signal N)."""
    code = returncode if returncode >= 0 else 128 - returncode  # Popen gives -N for signal N
    (Path(run_dir) / EXIT_CODE_FILE).write_text(f"{code}\n")


def create_run(spec: BaseModel, run_dir: str | Path | None = None) -> Path:
    """Write a queued run folder for `spec` (which has `kind` and `output`) without starting it."""
    run_dir = Path(run_dir or spec.output).expanduser().resolve()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / CONTROL_LOCK).touch()  # control_lock opens it for writing: a read-only disk says so here
    except OSError as exc:
        raise cannot_write(exc.filename or run_dir, exc) from None
    with control_lock(run_dir):  # two launches into one folder: exactly one creates it
        if (run_dir / STATUS_FILE).exists():
            raise RunsError(f"{run_dir} already holds a run: choose another --output, or resume it")
        write_atomic(run_dir / SPEC_FILE, spec.model_dump_json(indent=2))
        write_status(run_dir, RunStatus(kind=getattr(spec, "kind", "tune"), state="queued", created_at=time.time()))
    return run_dir


def launch(spec: BaseModel, run_dir: str | Path | None = None) -> Path:
    """Create the run folder for `spec` and start its worker, detached. Returns the folder at
    once; the worker runs on after the caller exits (or its browser tab closes)."""
    run_dir = create_run(spec, run_dir)
    start_worker(run_dir)
    return run_dir
