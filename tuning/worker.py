"""The tuning worker: `python -m tuning.worker RUN_DIR`.

Reads the run's spec.json, validates the dataset (saving dataset_report.json/.md), runs the
recipe for the method, and records how it ended in status.json. Started detached by
`tuning.runs.launch`; under `accelerate launch` every rank runs this, and only rank 0 writes.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import psutil

from tuning import runs
from tuning.errors import DatasetError, TuningError
from tuning.spec import JobSpec

REPORT_JSON = "dataset_report.json"  # with dataset_report.md beside it (DatasetReport.write)


def validate(spec: JobSpec):
    """The DatasetReport for the spec's data (the tokenizer of `spec.model` measures lengths)."""
    from tuning.data import validate_dataset

    return validate_dataset(
        spec.data, spec.mapping, kind=spec.kind_of_data, tokenizer=spec.model, max_seq_len=spec.max_seq_len,
        near_dup=spec.near_dup_threshold is not None, near_dup_threshold=spec.near_dup_threshold or 0.9,
        eval_fraction=spec.eval_fraction, seed=spec.seed,
    )


def ensure_report(spec: JobSpec, run_dir: Path):
    """Validate once per run (the CLI and the page may have saved the report already); raise a
    DatasetError naming file, line and field when the dataset cannot train."""
    from tuning.data import DatasetReport

    path = run_dir / REPORT_JSON
    if path.exists():
        report = DatasetReport.model_validate_json(path.read_text())
    else:
        report = validate(spec)
        report.write(run_dir)
    if not report.ok:
        lines = report.error_lines()
        raise DatasetError("the dataset failed validation: " + "; ".join(lines[:10]), file=spec.data)
    return report


def _wait_for_report(run_dir: Path, timeout_s: float = 3600) -> None:
    """Other ranks wait until rank 0's report is whole (it is not written atomically)."""
    deadline = time.time() + timeout_s
    while True:
        try:
            json.loads((run_dir / REPORT_JSON).read_text())
            return
        except (OSError, ValueError):
            if runs.read_status(run_dir).done or time.time() > deadline:
                raise TuningError("rank 0 wrote no dataset report (see its error in status.json)") from None
            time.sleep(0.5)


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    try:
        import torch

        return isinstance(exc, torch.cuda.OutOfMemoryError)
    except ImportError:
        return False


def run(run_dir: Path) -> int:
    """Run the job in `run_dir`; returns the process exit code (0 also for a cancel)."""
    rank0 = int(os.environ.get("RANK", "0")) == 0
    spec = JobSpec.model_validate_json((run_dir / runs.SPEC_FILE).read_text())
    me = psutil.Process()
    if rank0:
        runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time(),
                           started_at=time.time(), error=None, finished_at=None)
    try:
        if runs.cancel_requested(run_dir):
            outcome = "cancelled"
        else:
            if rank0:
                ensure_report(spec, run_dir)
            else:
                _wait_for_report(run_dir)  # every rank trains on the split the report describes
            if spec.method == "dpo":
                from tuning.recipes import dpo as recipe
            else:
                from tuning.recipes import sft as recipe
            outcome = recipe.run(spec, run_dir)
            if outcome == "completed" and spec.merge and rank0:
                from tuning.merge import merge_run

                merge_run(run_dir)
        if rank0:
            runs.update_status(run_dir, state=outcome, eta_s=None, finished_at=time.time())
        return 0
    except BaseException as exc:  # noqa: BLE001 - every ending is recorded, then re-raised as an exit code
        if _is_oom(exc):
            from tuning.memory import oom_advice

            message = oom_advice(spec)
        elif isinstance(exc, (TuningError, ValueError, FileNotFoundError)):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        if rank0:
            runs.update_status(run_dir, state="failed", error=message, eta_s=None, finished_at=time.time())
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m tuning.worker RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(argv[0]).resolve())


if __name__ == "__main__":
    sys.exit(main())
