"""Run folders for any worker kind (tuning jobs, comparison runs): launch, status, cancel, resume.

A run folder holds `spec.json` (the worker's input, with a `kind`), `status.json` (written
atomically: tmp file + os.replace), `metrics.jsonl`, `log.txt` (the worker's stdout and stderr),
and whatever the worker makes (checkpoints, adapter, results). The worker is its own detached
process (new session, so its own process group): a closed browser tab or a finished CLI does not
stop it, and `cancel` can end the whole tree with one `killpg`.

Import-light on purpose: no torch here, the launcher only starts `python -m <worker> RUN_DIR`.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field

from tuning.errors import TuningError

State = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL_STATES = frozenset({"completed", "failed", "cancelled"})

# kind -> worker module run as `python -m MODULE RUN_DIR`. Other packages add theirs with
# `register_worker`; "compare" is listed here so `ftadvisor runs resume` works without importing it.
WORKERS: dict[str, str] = {"tune": "tuning.worker", "compare": "compare.worker"}

SPEC_FILE, STATUS_FILE, METRICS_FILE, LOG_FILE = "spec.json", "status.json", "metrics.jsonl", "log.txt"
CANCEL_FILE = "cancel_requested"  # its presence asks the worker to stop at the end of the step
EXIT_CODE_FILE = "exit_code"  # written by the wrapper shell when the worker process ends
_REPO_ROOT = Path(__file__).resolve().parents[1]


class RunStatus(BaseModel):
    """What `status.json` holds. Times are Unix seconds (UTC)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    kind: str = Field("tune", description="Worker kind, a key of `WORKERS`.")
    state: State = "queued"
    step: int = Field(0, ge=0, description="Optimizer steps done.")
    total_steps: int | None = Field(None, description="Steps the run will do in all.")
    epoch: float | None = None
    loss: float | None = Field(None, description="Last logged training loss.")
    eta_s: float | None = Field(None, description="Seconds left, from the speed so far.")
    pid: int | None = Field(None, description="The worker's pid (rank 0), once it has started.")
    pid_create_time: float | None = Field(None, description="Its create time, to detect a reused pid.")
    pgid: int | None = Field(None, description="Process group of the whole worker tree.")
    created_at: float | None = None
    started_at: float | None = None
    updated_at: float | None = None
    finished_at: float | None = None
    error: str | None = Field(None, description="Why the run failed, and what to change.")
    stage: str | None = Field(None, description="Current stage, for multi-stage workers.")
    stages: dict[str, str] = Field(default_factory=dict, description="Stage name -> its state.")
    detail: dict[str, Any] = Field(default_factory=dict, description="Worker-specific extras.")

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES


class RunSummary(BaseModel):
    """One line of `list_runs`: where the run is, its status, and its last figures."""

    model_config = ConfigDict(extra="forbid")

    run_dir: str
    kind: str
    model: str | None = None
    method: str | None = None
    status: RunStatus
    final_loss: float | None = None
    eval_loss: float | None = None


def register_worker(kind: str, module: str) -> None:
    """Let `launch`/`resume` start `python -m module RUN_DIR` for runs whose spec has this kind."""
    WORKERS[kind] = module


# ---------------------------------------------------------------- files


def write_atomic(path: Path, text: str) -> Path:
    """Write a file so readers (and resume) see all of it or none of it (tmp + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # atomic on POSIX: readers see the old or the new file, never half
    return path


def write_status(run_dir: str | Path, status: RunStatus) -> RunStatus:
    status.updated_at = time.time()
    write_atomic(Path(run_dir) / STATUS_FILE, status.model_dump_json(indent=2))
    return status


def _load_status(run_dir: Path) -> RunStatus:
    path = run_dir / STATUS_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no {STATUS_FILE})")
    return RunStatus.model_validate_json(path.read_text())


def update_status(run_dir: str | Path, **changes: Any) -> RunStatus:
    """Read, change some fields, write back atomically. The worker is the only regular writer."""
    status = _load_status(Path(run_dir)).model_copy(update=changes)
    return write_status(run_dir, status)


def read_spec(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / SPEC_FILE
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} is not a run folder (no {SPEC_FILE})")
    return json.loads(path.read_text())


def spec_method(spec: dict[str, Any]) -> str | None:
    """The training method a run's spec names: a job's `method`, a comparison's `finetune.method`."""
    return spec.get("method") or (spec.get("finetune") or {}).get("method")


def append_metrics(run_dir: str | Path, record: dict[str, Any]) -> None:
    with open(Path(run_dir) / METRICS_FILE, "a") as fh:
        fh.write(json.dumps(record) + "\n")


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written right now
    return rows


def tail_log(run_dir: str | Path, lines: int = 20) -> str:
    path = Path(run_dir) / LOG_FILE
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 64 * 1024))  # the tail is all we show: read at most 64 KiB
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- liveness


def _process_alive(pid: int | None, create_time: float | None) -> bool:
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


def _death_reason(run_dir: Path, status: RunStatus) -> str:
    """Why a worker that never recorded an end is gone: exit code or signal, and the log tail."""
    code_file = run_dir / EXIT_CODE_FILE
    code = int(code_file.read_text().strip() or -1) if code_file.exists() else None
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


def read_status(run_dir: str | Path) -> RunStatus:
    """The run's status; a queued/running run whose process is gone is marked failed, with why."""
    run_dir = Path(run_dir)
    status = _load_status(run_dir)
    if status.done:
        return status
    if status.pid is None and status.pgid is None:
        return status  # queued without a process: nobody launched it yet
    if not (run_dir / EXIT_CODE_FILE).exists():
        if status.pgid is not None:
            # Launched through the wrapper shell: while it lives, the worker is starting, running,
            # or has just ended and the shell is about to write its exit code.
            if _process_alive(status.pgid, status.detail.get("launcher_create_time")):
                return status
        elif _process_alive(status.pid, status.pid_create_time):
            return status  # a worker run in-process (no wrapper): its own pid tells
    status = _load_status(run_dir)  # it may have finished while we looked
    if status.done:
        return status
    return write_status(
        run_dir,
        status.model_copy(update={"state": "failed", "error": _death_reason(run_dir, status),
                                  "finished_at": time.time(), "eta_s": None}),
    )


# ---------------------------------------------------------------- launch / cancel / resume


def worker_command(run_dir: Path, spec: dict[str, Any]) -> list[str]:
    """`python -m <worker> RUN_DIR`, or `accelerate launch` for a spec asking for gpus > 1."""
    kind = spec.get("kind", "tune")
    if kind not in WORKERS:
        raise TuningError(f"unknown run kind {kind!r}: known kinds are {sorted(WORKERS)}")
    module = WORKERS[kind]
    if int(spec.get("gpus") or 1) > 1:
        from tuning.launch import accelerate_command

        return accelerate_command(run_dir, module, gpus=int(spec["gpus"]), sharding=spec.get("sharding", "none"),
                                  mixed_precision="no" if spec.get("device") == "cpu" else "bf16")
    return [sys.executable, "-m", module, str(run_dir)]


def start_worker(run_dir: str | Path) -> RunStatus:
    """Start the worker detached: new session, output to log.txt, exit code to a file."""
    run_dir = Path(run_dir).resolve()
    command = worker_command(run_dir, read_spec(run_dir))
    (run_dir / EXIT_CODE_FILE).unlink(missing_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    for quiet in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS"):  # no \r bars in log.txt
        env.setdefault(quiet, "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO_ROOT), env.get("PYTHONPATH")) if p)
    # The shell waits for the worker and records how it ended ($? is 128+N for signal N).
    wrapper = ["/bin/sh", "-c", 'rc=0; "$@" || rc=$?; echo "$rc" > "$0"', str(run_dir / EXIT_CODE_FILE)]
    with open(run_dir / LOG_FILE, "ab") as log:
        log.write(f"\n== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(command)}\n".encode())
        log.flush()
        proc = subprocess.Popen(wrapper + command, cwd=run_dir, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it, so no zombie is left
    try:
        launcher_ct = psutil.Process(proc.pid).create_time()
    except psutil.Error:
        launcher_ct = None
    status = _load_status(run_dir)
    detail = dict(status.detail, launcher_create_time=launcher_ct, command=command)
    return update_status(run_dir, pgid=proc.pid, pid=None, pid_create_time=None, detail=detail)


def create_run(spec: BaseModel, run_dir: str | Path | None = None) -> Path:
    """Write a queued run folder for `spec` (which has `kind` and `output`) without starting it."""
    run_dir = Path(run_dir or getattr(spec, "output")).expanduser().resolve()
    if (run_dir / STATUS_FILE).exists():
        raise TuningError(f"{run_dir} already holds a run: choose another --output, or resume it")
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run_dir / SPEC_FILE, spec.model_dump_json(indent=2))
    write_status(run_dir, RunStatus(kind=getattr(spec, "kind", "tune"), state="queued", created_at=time.time()))
    return run_dir


def launch(spec: BaseModel, run_dir: str | Path | None = None) -> Path:
    """Create the run folder for `spec` and start its worker, detached. Returns the folder at
    once; the worker runs on after the caller exits (or its browser tab closes)."""
    run_dir = create_run(spec, run_dir)
    start_worker(run_dir)
    return run_dir


def cancel_requested(run_dir: str | Path) -> bool:
    return (Path(run_dir) / CANCEL_FILE).exists()


def _group_alive(pgid: int | None) -> bool:
    if not pgid:
        return False
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return False


def _kill_group(pgid: int, wait_s: float = 5.0) -> None:
    """SIGTERM the group, then SIGKILL what is left; raise if anything survives."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.time() + wait_s
        while time.time() < deadline and _group_alive(pgid):
            time.sleep(0.1)
        if not _group_alive(pgid):
            return
    raise TuningError(f"process group {pgid} survived SIGKILL")


def cancel(run_dir: str | Path, grace_s: float = 30.0) -> RunStatus:
    """Ask the worker to stop after the current step (it saves a checkpoint and marks the run
    cancelled); after `grace_s` end the whole process group, and make sure it is gone."""
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if status.done:
        return status
    (run_dir / CANCEL_FILE).write_text(str(time.time()))
    deadline = time.time() + grace_s
    while time.time() < deadline:
        status = read_status(run_dir)
        if status.done and not _group_alive(status.pgid):
            break
        time.sleep(0.2)
    if _group_alive(status.pgid):
        _kill_group(status.pgid)
    status = _load_status(run_dir)
    if not status.done or status.state == "failed":  # killed before it could record the cancel
        status = write_status(run_dir, status.model_copy(update={
            "state": "cancelled", "eta_s": None, "finished_at": time.time(),
            "error": f"stopped by cancel: the worker did not stop within {grace_s:.0f} s, its processes were ended",
        }))
    return status


def resume(run_dir: str | Path) -> RunStatus:
    """Start the worker again on this folder; it continues from the last checkpoint (or stage)."""
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    if not status.done:
        raise TuningError(f"{run_dir} is still {status.state}: cancel it first, or wait")
    if status.state == "completed":
        raise TuningError(f"{run_dir} has completed: there is nothing to resume")
    (run_dir / CANCEL_FILE).unlink(missing_ok=True)
    write_status(run_dir, status.model_copy(update={"state": "queued", "error": None, "finished_at": None,
                                                    "pid": None, "pid_create_time": None}))
    return start_worker(run_dir)


def wait(run_dir: str | Path, timeout_s: float | None = None, poll_s: float = 0.5, on_status=None) -> RunStatus:
    """Poll until the run ends (or `timeout_s` passes); `on_status(status)` sees each poll."""
    deadline = None if timeout_s is None else time.time() + timeout_s
    while True:
        status = read_status(run_dir)
        if on_status is not None:
            on_status(status)
        if status.done or (deadline is not None and time.time() > deadline):
            return status
        time.sleep(poll_s)


def list_runs(root: str | Path) -> list[RunSummary]:
    """Every run folder directly under `root` (or `root` itself), newest first."""
    root = Path(root)
    if not root.exists():
        return []
    folders = [root] if (root / STATUS_FILE).exists() else [p for p in root.iterdir() if (p / STATUS_FILE).exists()]
    runs = []
    for folder in folders:
        try:
            status, spec = read_status(folder), read_spec(folder)
        except (OSError, ValueError):
            continue  # a half-written or foreign folder
        metrics = read_metrics(folder)
        losses = [m["loss"] for m in metrics if m.get("loss") is not None]
        evals = [m["eval_loss"] for m in metrics if m.get("eval_loss") is not None]
        runs.append(RunSummary(
            run_dir=str(folder), kind=status.kind, model=spec.get("model"), method=spec_method(spec),
            status=status, final_loss=losses[-1] if losses else None, eval_loss=evals[-1] if evals else None,
        ))
    return sorted(runs, key=lambda r: r.status.created_at or 0, reverse=True)
