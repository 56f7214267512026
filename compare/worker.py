"""The comparison worker: `python -m compare.worker RUN_DIR`.

Started detached by `runs.launch` (kind "compare"); runs the pipeline from the stage the run
folder has reached and records how it ended in status.json (`runs.run_worker`, which holds the
run's lock for the worker's whole life).
"""
from __future__ import annotations

import sys
from pathlib import Path

import runs
from compare.pipeline import Pipeline
from compare.plan import planned


def explain(exc: BaseException) -> str:
    """The error line of a failed comparison; an out-of-memory error says what to change."""
    message = runs.describe_failure(exc)
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        message = f"out of memory: {message} (try --method qlora, a smaller --eval-count or a bigger GPU)"
    return message


def _pipeline(run_dir: Path) -> str:
    pipeline = Pipeline(run_dir)
    return pipeline.run(planned(pipeline.spec))


def run(run_dir: Path) -> int:
    """Run (or resume) the comparison in `run_dir`; the exit code (0 also for a cancel)."""
    return runs.run_worker(run_dir, lambda: _pipeline(run_dir), explain=explain)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m compare.worker RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(argv[0]).resolve())


if __name__ == "__main__":
    sys.exit(main())
