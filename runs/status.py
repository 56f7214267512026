"""What `status.json` holds (`RunStatus`), and reading and writing it: a pure reader
(`load_status`), whole-file atomic writes, and read-change-write under `status.lock`."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runs.errors import RunDamaged, RunWriteError
from runs.files import DISK_FULL, STATUS_FILE, overwrite_in_place, read_json_file, write_atomic
from runs.lock import status_lock

State = Literal["queued", "running", "completed", "failed", "cancelled"]
TERMINAL_STATES = frozenset({"completed", "failed", "cancelled"})


class RunStatus(BaseModel):
    """What `status.json` holds. Times are Unix seconds (UTC)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    kind: str = Field("tune", description="Worker kind, a key of `runs.WORKERS`.")
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

    def ended(self, state: State, error: str | None = None) -> RunStatus:
        """This status as a run that ended now in `state`; a stage still "running" ends the same way."""
        stages = {name: (state if s == "running" else s) for name, s in self.stages.items()}
        return self.model_copy(update={"state": state, "error": error, "finished_at": time.time(),
                                       "eta_s": None, "stages": stages})


def load_status(run_dir: str | Path) -> RunStatus:
    """The run's status as written: FileNotFoundError for a folder that is no run, RunDamaged
    naming the file when it is not a whole status. Writes nothing (see `refresh_status`)."""
    path = Path(run_dir) / STATUS_FILE
    data = read_json_file(path, "the run's status")
    try:
        return RunStatus.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "status"
        raise RunDamaged(f"{path} is damaged ({where}: {first.get('msg')})") from None


def write_status(run_dir: str | Path, status: RunStatus) -> RunStatus:
    """Write status.json atomically; on a full disk, over the old file's own blocks, so that a
    run whose disk filled up can still be marked failed (`files.overwrite_in_place`)."""
    status.updated_at = time.time()
    path, text = Path(run_dir) / STATUS_FILE, status.model_dump_json(indent=2)
    try:
        write_atomic(path, text)
    except RunWriteError as exc:
        if exc.errno not in DISK_FULL or not overwrite_in_place(path, text):
            raise
    return status


def change_status(run_dir: str | Path, change: Callable[[RunStatus], RunStatus | None]) -> RunStatus:
    """Read, `change` (None: leave it as it is), write back, all under `status.lock`; returns the
    status as it now stands."""
    load_status(run_dir)  # a folder that is no run says so before any lock file is made
    with status_lock(run_dir):
        status = load_status(run_dir)
        new = change(status)
        return status if new is None else write_status(run_dir, new)


def update_status(run_dir: str | Path, **changes: Any) -> RunStatus:
    """Set some fields, keeping every other field as the latest writer left it."""
    return change_status(run_dir, lambda s: s.model_copy(update=changes))


def merge_detail(run_dir: str | Path, **items: Any) -> RunStatus:
    """Add or replace keys of `detail`, keeping the others."""
    return change_status(run_dir, lambda s: s.model_copy(update={"detail": {**s.detail, **items}}))
