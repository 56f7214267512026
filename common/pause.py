"""Pause points: named places where a worker can be held, so that a test stops it at a known step
instead of racing it.

    FTADVISOR_PAUSE_AT=tune-step-2   # in the environment of the process that reaches the point

When the variable names the point, `pause_point(name, folder)` writes `folder/.paused-<name>`
(the process id) and waits, polling every 50 ms, until `folder/.go-<name>` exists; then it goes
on. A test waits for the first file, does what it needs there (requests a cancel, SIGKILLs the
worker, looks at the files) and writes the second, or kills. Unset, or naming another point, a
call costs one `os.environ.get` and a comparison: nothing else. Workers inherit the variable
(`runs.launch` copies the environment), and so does a comparison's tuning child.

The points:
- `tune-step-<N>` (`tuning.progress`, folder: the tuning run's folder): between two steps. Step N
  has written all it writes (its metrics.jsonl row when it logs, its checkpoint, marked complete,
  when it saves) and step N+1 has not begun; status.json, rewritten at most every 0.5 s, may say
  an earlier step. `tune-step-0` is before the first step; a resumed run starts at its checkpoint's step.
- `pull-before-rename` (`lm.offline.pull`, folder: the parent of the model folder): the model is
  whole in its hidden partial folder, provenance.json included, not yet renamed into place.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_ENV = "FTADVISOR_PAUSE_AT"
POLL_S = 0.05  # how often a held point looks for its go file


def paused_file(name: str, folder: Path) -> Path:
    """Written (holding the pid) once the process is held at `name`."""
    return folder / f".paused-{name}"


def go_file(name: str, folder: Path) -> Path:
    """Create it to let the process held at `name` go on."""
    return folder / f".go-{name}"


def pause_point(name: str, folder: Path) -> None:
    """Hold here while FTADVISOR_PAUSE_AT names this point (see the module docstring)."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = paused_file(name, folder)
    partial = marker.with_name(f"{marker.name}.{os.getpid()}")
    partial.write_text(f"{os.getpid()}\n")
    os.replace(partial, marker)  # whole or absent: a reader never sees an empty pid
    go = go_file(name, folder)
    while not go.exists():
        time.sleep(POLL_S)
