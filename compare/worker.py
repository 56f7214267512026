"""The comparison worker: `python -m compare.worker RUN_DIR`.

Started detached by `tuning.runs.launch` (kind "compare"); runs the pipeline from the stage the
run folder has reached and records how it ended in status.json.
"""
from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

import psutil

from tuning import runs


def run(run_dir: Path) -> int:
    """Run (or resume) the comparison in `run_dir`; the exit code (0 also for a cancel)."""
    me = psutil.Process()
    runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time(),
                       started_at=time.time(), error=None, finished_at=None)
    try:
        from compare.pipeline import Pipeline

        outcome = Pipeline(run_dir).run()
        runs.update_status(run_dir, state=outcome, eta_s=None, finished_at=time.time())
        return 0
    except BaseException as exc:  # noqa: BLE001 - every ending is recorded, then turned into an exit code
        message = str(exc) if isinstance(exc, (ValueError, FileNotFoundError)) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
            message = f"out of memory: {message} (try --method qlora, a smaller --eval-count or a bigger GPU)"
        traceback.print_exc()
        runs.update_status(run_dir, state="failed", error=message, eta_s=None, finished_at=time.time())
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m compare.worker RUN_DIR", file=sys.stderr)
        return 2
    return run(Path(argv[0]).resolve())


if __name__ == "__main__":
    sys.exit(main())
