"""One click, one run. A double click on a Launch button reaches Streamlit as two reruns with the
button pressed: the second runs after the first has launched (one script run at a time per
session), and each run of the page names a new run folder, so both launched and two comparisons
ran to the end. The button only turns disabled when the page is drawn again, after the second
click was sent. So the launch itself is guarded: the same form launched again from this session
while its run is queued or running gives that run back.

"The same form" is the spec without its output folder (which each rerun names anew).
"""
from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any, TypeVar

import runs

Result = TypeVar("Result")


def _form(spec: Any) -> str:
    return spec.model_dump_json(exclude={"output"})


def live_run(state: MutableMapping, slot: str, spec: Any) -> Path | None:
    """The run this session launched from the same form as `spec`, while it has not ended."""
    last = state.get(slot)
    if spec is None or not last or last["form"] != _form(spec):
        return None
    try:
        done = runs.load_status(last["run_dir"]).done
    except (runs.RunsError, FileNotFoundError, OSError):  # gone or damaged: nothing to protect
        return None
    return None if done else Path(last["run_dir"])


def launch_once(state: MutableMapping, slot: str, spec: Any, launch: Callable[[Any], Result],
                run_dir_of: Callable[[Result], Path] = Path) -> tuple[Result, bool]:
    """`(launch(spec), True)`, or `(the earlier result, False)` when this session's `slot`
    (e.g. `st.session_state`, "cmp_launched") holds a live run of the same form."""
    if live_run(state, slot, spec) is not None:
        return state[slot]["result"], False
    result = launch(spec)
    state[slot] = {"form": _form(spec), "run_dir": str(run_dir_of(result)), "result": result}
    return result, True
