"""Which Trainer checkpoints are whole, and where a resumed run starts.

The Trainer writes `checkpoints/checkpoint-N` in place (transformers 5.23
`Trainer._save_checkpoint`: weights, optimizer, scheduler, RNG, trainer_state.json, then
`rotate_checkpoints` deletes the oldest beyond `save_total_limit`), so a kill during a save leaves
a folder that looks like a checkpoint and is not one. After the save, `on_save` (the callback
event fired right after `_save_checkpoint`) writes `ftadvisor_checkpoint.json` into it last:
the step and the size of every file. A checkpoint is complete when that marker is there and
every file it lists has its size, which also rejects an older checkpoint whose deletion by the
rotation was cut short. Import-light: no torch.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import runs

CHECKPOINTS = "checkpoints"
MARKER = "ftadvisor_checkpoint.json"
_PREFIX = "checkpoint-"  # transformers.trainer_utils.PREFIX_CHECKPOINT_DIR + "-"


def step_of(folder: Path) -> int | None:
    tail = folder.name[len(_PREFIX):]
    return int(tail) if folder.name.startswith(_PREFIX) and tail.isdigit() else None


def mark_complete(folder: Path, step: int) -> Path:
    """Write the marker into a checkpoint the Trainer has finished saving (atomically, last)."""
    files = {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != MARKER}
    marker = {"step": step, "saved_at": time.time(), "files": files}
    return runs.write_atomic(folder / MARKER, json.dumps(marker, indent=1))


def marker_of(folder: Path) -> dict | None:
    """The marker of a complete checkpoint, or None when it is missing, cut, or names a file
    that is gone or has another size."""
    try:
        marker = json.loads((folder / MARKER).read_text())
        files = marker["files"]
        whole = all((folder / name).is_file() and (folder / name).stat().st_size == size
                    for name, size in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return marker if files and whole and marker.get("step") == step_of(folder) else None


def checkpoint_folders(run_dir: Path) -> list[Path]:
    """Every `checkpoints/checkpoint-N` folder, by step."""
    folder = run_dir / CHECKPOINTS
    found = [p for p in folder.glob(_PREFIX + "*") if p.is_dir() and step_of(p) is not None] if folder.exists() else []
    return sorted(found, key=step_of)


def last_complete(run_dir: Path) -> Path | None:
    """The newest complete checkpoint, or None."""
    return next((p for p in reversed(checkpoint_folders(run_dir)) if marker_of(p) is not None), None)


def resume_point(run_dir: Path, *, writer: bool = True) -> str | None:
    """The checkpoint a (re)started run continues from, or None to start at step 0.

    The writer (rank 0) also makes the folder agree with that choice: it deletes incomplete
    checkpoints (the Trainer's rotation would count them, and could delete a complete one in
    their favour), drops the metrics rows an earlier attempt logged after the checkpoint (the
    resumed run logs those steps again), and says in log.txt and in status.detail
    (`resumed_from`, `resumed_step`) where the run continues."""
    chosen = last_complete(run_dir)
    if not writer:
        return str(chosen) if chosen else None
    folders = checkpoint_folders(run_dir)
    metrics = run_dir / runs.METRICS_FILE
    if not folders and not runs.read_metrics(run_dir) and runs.load_status(run_dir).step == 0:
        return None  # a first start: nothing to resume, nothing to say
    incomplete = [p for p in folders if marker_of(p) is None]
    for folder in incomplete:
        shutil.rmtree(folder, ignore_errors=True)
    if chosen is None:
        dropped = runs.keep_jsonl(metrics, lambda row: False)
        step, message = 0, "no complete checkpoint is left: the run restarts from step 0"
    else:
        marker = marker_of(chosen)
        step, saved_at = marker["step"], marker["saved_at"]
        dropped = runs.keep_jsonl(metrics, lambda row: _before(row, step, saved_at))
        message = f"resuming from the newest complete checkpoint, {CHECKPOINTS}/{chosen.name} (step {step})"
    if incomplete:
        message += f"; removed incomplete {', '.join(p.name for p in incomplete)} (a save cut short)"
    if dropped:
        message += f"; dropped {dropped} metrics.jsonl row(s) an earlier attempt logged after step {step}"
    print(message, flush=True)
    runs.merge_detail(run_dir, resumed_from=chosen.name if chosen else None, resumed_step=step)
    return str(chosen) if chosen else None


def _before(row: dict, step: int, saved_at: float) -> bool:
    """Whether a metrics row was logged before the checkpoint at `step` was saved (the row of
    step N itself is logged before checkpoint-N is written; a cancel's summary row after it)."""
    row_step = row.get("step", 0)
    return row_step < step or (row_step == step and row.get("time", 0) <= saved_at)
