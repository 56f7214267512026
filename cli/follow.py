"""Follow a background run from the command line (`tune`, `compare`, `runs resume`): one progress
line per change until it ends, then the exit code. Errors name the command that was typed."""
from __future__ import annotations

import sys
from pathlib import Path

from common.text import one_line

# kind -> the file a completed run of that kind prints (a comparison's metrics table).
_RESULT_FILES = {"compare": "metrics.md"}


def _eta(status) -> str:
    return f" eta {int(status.eta_s) // 60}:{int(status.eta_s) % 60:02d}" if status.eta_s is not None else ""


def _loss(status) -> str:
    return f" loss {status.loss:.4f}" if status.loss is not None else ""


def _stage_line(status) -> str:
    """`running   stage 3/10 base: 12/42` (steps, loss and eta while training)."""
    stages = list(status.stages)
    where = ""
    if status.stage and status.state == "running":
        index = stages.index(status.stage) + 1 if status.stage in stages else "?"
        where = f" stage {index}/{len(stages)} {status.stage}"
        if status.total_steps:
            where += f": {status.step}/{status.total_steps}"
        where += _loss(status) + _eta(status)
    return f"{status.state:9}{where}".rstrip()


def _step_line(status) -> str:
    """`running   step 12/40 (30%) loss 1.2345 eta 0:42`."""
    total = status.total_steps or 0
    pct = f" ({100 * status.step / total:.0f}%)" if total else ""
    steps = f"step {status.step}/{total or '?'}{pct}" if status.state == "running" else ""
    return f"{status.state:9} {steps}{_loss(status)}{_eta(status)}".rstrip()


def progress_line(status) -> str:
    """The line shown for a status: by stage for multi-stage runs, by step otherwise."""
    return _stage_line(status) if status.stages else _step_line(status)


def follow(run_dir: Path, command: str | None = None) -> int:
    """Print progress until the run ends; 0 completed, 1 failed/cancelled, 130 on Ctrl-C (run goes on).
    A failure is reported as `ftadvisor COMMAND: error: ...` (COMMAND: the run's kind by default)."""
    import runs

    tty = sys.stdout.isatty()
    last = ""

    def show(status) -> None:
        nonlocal last
        line = progress_line(status)
        if line != last:
            print(("\r" + line.ljust(len(last))) if tty else line, end="" if tty else "\n", flush=True)
            last = line

    try:
        status = runs.wait(run_dir, poll_s=1.0, on_status=show)
    except KeyboardInterrupt:
        print(f"\nthe run goes on in the background: ftadvisor runs show {run_dir} / ftadvisor runs cancel {run_dir}")
        return 130
    if tty:
        print()
    if status.state == "failed":
        print(f"ftadvisor {command or status.kind}: error: {one_line(status.error)} "
              f"(log: {one_line(Path(run_dir) / runs.LOG_FILE)})",
              file=sys.stderr)
        return 1
    if status.state != "completed":
        return 1
    name = _RESULT_FILES.get(status.kind)
    if name and (Path(run_dir) / name).is_file():
        print((Path(run_dir) / name).read_text(), end="")
    return 0
