"""The tuning worker: `python -m tuning.worker RUN_DIR`.

Reads the run's spec.json, validates the dataset (saving dataset_report.json/.md), runs the
recipe for the method, and records how it ended in status.json (`runs.run_worker`: the run's
lock for its whole life, so at most one worker trains in a folder). Started detached by
`runs.start_worker`, or as the comparison's child by `runs.start_child`; under `accelerate
launch` every rank runs this, and only rank 0 locks and writes.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import runs
from tuning.errors import DatasetRefused, TuningError
from tuning.spec import JobSpec

REPORT_JSON = "dataset_report.json"  # with dataset_report.md beside it (DatasetReport.write)


def validate(spec: JobSpec, on_notice=None):
    """The DatasetReport for the spec's data (the tokenizer of `spec.model` measures lengths);
    `on_notice(line)` hears of a long near-duplicate check before it starts."""
    from tuning.data import validate_dataset

    return validate_dataset(
        spec.data, spec.mapping, kind=spec.kind_of_data, tokenizer=spec.model, max_seq_len=spec.max_seq_len,
        near_dup=spec.near_dup_threshold is not None, near_dup_threshold=spec.near_dup_threshold or 0.9,
        eval_fraction=spec.eval_fraction, seed=spec.seed, on_notice=on_notice,
    )


def ensure_report(spec: JobSpec, run_dir: Path):
    """Validate once per run (the CLI and the page may have saved the report already); raise
    DatasetRefused naming file, line and field when the dataset cannot train."""
    from tuning.data import DatasetReport

    path = run_dir / REPORT_JSON
    if path.exists():
        report = DatasetReport.model_validate_json(path.read_text())
    else:
        report = validate(spec, on_notice=lambda line: print(f"note: {line}", flush=True))  # into log.txt
        report.write(run_dir)
    if not report.ok:
        raise DatasetRefused(report, file=spec.data)
    return report


def _wait_for_report(run_dir: Path, timeout_s: float = 3600) -> None:
    """Other ranks wait until rank 0's report is whole (it is not written atomically)."""
    deadline = time.time() + timeout_s
    while True:
        try:
            json.loads((run_dir / REPORT_JSON).read_text())
            return
        except (OSError, ValueError):
            if runs.load_status(run_dir).done or time.time() > deadline:
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


def _train(spec: JobSpec, run_dir: Path, rank0: bool) -> str:
    """Check the data, run the method's recipe (and the merge); "completed" or "cancelled"."""
    if runs.cancel_requested(run_dir):
        return "cancelled"
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
    return outcome


def run(run_dir: Path) -> int:
    """Run the job in `run_dir`; returns the process exit code (0 also for a cancel)."""
    rank0 = int(os.environ.get("RANK", "0")) == 0
    spec = JobSpec.model_validate_json((run_dir / runs.SPEC_FILE).read_text())

    def explain(exc: BaseException) -> str:
        if _is_oom(exc):
            from tuning.memory import oom_advice

            return oom_advice(spec)
        return runs.describe_failure(exc)

    return runs.run_worker(run_dir, lambda: _train(spec, run_dir, rank0), explain=explain, writer=rank0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m tuning.worker RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(argv[0]).resolve())


if __name__ == "__main__":
    sys.exit(main())
