"""Every run under a folder, newest first, with its last figures; a run whose files are damaged
is listed as damaged (with the file and what is wrong), never left out."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runs.errors import RunDamaged
from runs.files import STATUS_FILE, read_metrics, read_spec
from runs.liveness import refresh_status
from runs.status import RunStatus


class RunSummary(BaseModel):
    """One line of `list_runs`: where the run is, its status, and its last figures."""

    model_config = ConfigDict(extra="forbid")

    run_dir: str
    kind: str
    model: str | None = None
    method: str | None = None
    status: RunStatus = Field(description="The run's status; for a damaged status.json a stand-in: failed, "
                              "with the damage as its error (see `damaged`).")
    final_loss: float | None = None
    eval_loss: float | None = None
    damaged: str | None = Field(None, description="Which file is damaged and how, when one is.")

    @property
    def state(self) -> str:
        return "damaged" if self.damaged else self.status.state


def spec_method(spec: dict[str, Any]) -> str | None:
    """The training method a run's spec names: a job's `method`, a comparison's `finetune.method`."""
    return spec.get("method") or (spec.get("finetune") or {}).get("method")


def _summary(folder: Path) -> RunSummary:
    problems, status, spec = [], None, {}
    try:
        spec = read_spec(folder)
    except (RunDamaged, FileNotFoundError) as exc:
        problems.append(str(exc))
    try:
        status = refresh_status(folder)
    except RunDamaged as exc:
        problems.insert(0, str(exc))
        status = RunStatus(kind=str(spec.get("kind", "?")), state="failed", error=str(exc))
    metrics = read_metrics(folder)
    losses = [m["loss"] for m in metrics if m.get("loss") is not None]
    evals = [m["eval_loss"] for m in metrics if m.get("eval_loss") is not None]
    return RunSummary(
        run_dir=str(folder), kind=status.kind, model=spec.get("model"),
        method=spec_method(spec), status=status, final_loss=losses[-1] if losses else None,
        eval_loss=evals[-1] if evals else None, damaged="; ".join(problems) or None,
    )


def _created(summary: RunSummary) -> float:
    if summary.status.created_at is not None:
        return summary.status.created_at
    return (Path(summary.run_dir) / STATUS_FILE).stat().st_mtime


def list_runs(root: str | Path) -> list[RunSummary]:
    """Every run folder directly under `root` (or `root` itself), newest first."""
    root = Path(root)
    if not root.exists():
        return []
    folders = [root] if (root / STATUS_FILE).exists() else [p for p in root.iterdir() if (p / STATUS_FILE).exists()]
    return sorted((_summary(folder) for folder in folders), key=_created, reverse=True)
