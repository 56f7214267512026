"""The comparison pipeline: runs a list of stages (`compare.plan.planned(spec)`) in order.

Each finished stage has written its output file (atomically) in the run folder; a resumed run
skips every stage whose file exists, and an answering stage picks up at the first question it
has no answer for. The worker process (`compare.worker`) runs this; `status.json` shows the stage
and its progress.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

import runs
from compare.errors import Cancelled, CompareError
from compare.spec import CompareSpec

STATUS_EVERY_S = 0.5
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Stage:
    """One step of a comparison: its name (in status.json), the file whose presence marks it
    finished (relative to the run folder, `compare.files`), and the function that runs it."""

    name: str
    output: str
    run: Callable[[Pipeline], None]


class Pipeline:
    """Runs the stages of one run folder, recording progress in its status.json."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.spec = CompareSpec.model_validate_json((self.run_dir / runs.SPEC_FILE).read_text())
        self._last_status = 0.0

    # ------------------------------------------------------------ driving

    def run(self, stages: Sequence[Stage]) -> str:
        """Run every unfinished stage; returns "completed" or "cancelled" (raises on failure)."""
        states = {stage.name: ("completed" if self.path(stage.output).exists() else "pending") for stage in stages}
        runs.update_status(self.run_dir, stages=states)
        for stage in stages:
            if states[stage.name] == "completed":
                self.log(f"stage {stage.name}: already done, skipped")
                continue
            try:
                self.check_cancel()
                states[stage.name] = "running"
                runs.update_status(self.run_dir, stage=stage.name, stages=dict(states), step=0, total_steps=None,
                                   eta_s=None, loss=None)
                self.log(f"stage {stage.name}: started")
                start = time.time()
                stage.run(self)
                states[stage.name] = "completed"
                self.record_stage_time(stage.name, time.time() - start)
                runs.update_status(self.run_dir, stages=dict(states))
                self.log(f"stage {stage.name}: done in {time.time() - start:.1f} s")
            except Cancelled:
                states[stage.name] = "cancelled"
                runs.update_status(self.run_dir, stages=dict(states))
                self.log(f"stage {stage.name}: cancelled")
                return "cancelled"
            except BaseException:
                states[stage.name] = "failed"
                runs.update_status(self.run_dir, stages=dict(states))
                raise
        runs.update_status(self.run_dir, step=len(stages), total_steps=len(stages), loss=None)
        return "completed"

    # ------------------------------------------------------------ helpers for stages

    def check_cancel(self) -> None:
        if runs.cancel_requested(self.run_dir):
            raise Cancelled()

    def progress(self, done: int, total: int | None, *, force: bool = False, **extra: Any) -> None:
        """The current stage's progress (step/total_steps), throttled to one write per 0.5 s."""
        now = time.time()
        if not force and now - self._last_status < STATUS_EVERY_S and (total is None or done < total):
            return
        self._last_status = now
        runs.update_status(self.run_dir, step=done, total_steps=total, **extra)

    def record_stage_time(self, stage: str, seconds: float) -> None:
        status = runs.load_status(self.run_dir)
        times = dict(status.detail.get("stage_seconds", {}))
        times[stage] = round(times.get(stage, 0.0) + seconds, 3)
        runs.update_status(self.run_dir, detail=dict(status.detail, stage_seconds=times))

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def path(self, name: str) -> Path:
        return self.run_dir / name

    def read(self, name: str, model: type[M]) -> M:
        """A stage's output file, parsed with its model (compare.records)."""
        path = self.run_dir / name
        if not path.exists():
            raise CompareError(f"{path} is missing: the stage that writes it has not run")
        return model.model_validate_json(path.read_text())

    def read_optional(self, name: str, model: type[M]) -> M | None:
        return self.read(name, model) if (self.run_dir / name).exists() else None

    def write(self, name: str, record: BaseModel) -> Path:
        return runs.write_atomic(self.run_dir / name, record.model_dump_json(indent=2))
