"""The run panel both run pages share (Fine-tune, Compare): state, progress, the error, cancel
and resume, the log tail, and the list of past runs to open. While a run goes on the panel
reruns every 2 s on its own (a fragment, not the whole page); when the run ends, the whole page
reruns once so what depends on the outcome (results, the runs list) is drawn.

A page passes `details(run_dir, status)` for what only it shows (a loss chart, stage icons).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

import runs
from ui.errors import show_errors

Details = Callable[[Path, runs.RunStatus], None]
REFRESH_S = 2


def run_panel(run_dir: Path, prefix: str, details: Details, *, cancel_grace_s: float = 30) -> None:
    """The panel for one run; `prefix` keys its widgets (`ft_`, `cmp_`)."""
    status = _status(run_dir)
    if status is None:
        return
    watching = f"{prefix}watching"
    if not status.done:
        st.session_state[watching] = str(run_dir)
        st.fragment(_live, run_every=REFRESH_S)(run_dir, prefix, details, cancel_grace_s)
        return
    if st.session_state.pop(watching, None) == str(run_dir):
        st.rerun()  # it ended since the last full run: draw the whole page once with its outcome
    _draw(run_dir, status, prefix, details, cancel_grace_s)


def _status(run_dir: Path) -> runs.RunStatus | None:
    """The run's status, or None after one error line (a folder deleted, a damaged status.json)."""
    try:
        return runs.refresh_status(run_dir)
    except (runs.RunsError, FileNotFoundError) as exc:
        show_errors(exc)
        return None


def _live(run_dir: Path, prefix: str, details: Details, cancel_grace_s: float) -> None:
    status = _status(run_dir)
    if status is None:
        return
    if status.done:
        st.session_state.pop(f"{prefix}watching", None)  # the full rerun draws the outcome at once
        st.rerun()
    _draw(run_dir, status, prefix, details, cancel_grace_s)


def _draw(run_dir: Path, status: runs.RunStatus, prefix: str, details: Details, cancel_grace_s: float) -> None:
    st.caption(f"{status.state} · `{run_dir}`")
    details(run_dir, status)
    if status.error:
        (st.warning if status.state == "cancelled" else st.error)(status.error)
    c1, c2 = st.columns(2)
    if not status.done and c1.button("Cancel", key=f"{prefix}cancel_btn", help="Stops after the current step, "
                                     f"saving a checkpoint; its processes are ended after {cancel_grace_s:.0f} s "
                                     "at most. Resume later."):
        _act(lambda: runs.cancel(run_dir, grace_s=cancel_grace_s), "Stopping at the end of the step…")
    resumable = status.done and status.state != "completed"  # cancelled or failed
    if resumable and c2.button("Resume", key=f"{prefix}resume_btn", help="Continue from the last checkpoint or stage."):
        _act(lambda: runs.resume(run_dir), "Starting the worker again…")
    if status.state != "completed":
        tail = runs.tail_log(run_dir, 10)
        if tail:
            st.code(tail, language=None)


def _act(action: Callable[[], object], doing: str) -> None:
    """Run a cancel or resume, then the whole page again; a refusal (RunBusy, a run that ended
    meanwhile) stays on the page as one line."""
    try:
        with st.spinner(doing):
            action()
    except ValueError as exc:  # RunsError, RunBusy
        show_errors(exc)
    else:
        st.rerun()


def progress_bar(status: runs.RunStatus, text: str) -> None:
    """`st.progress` at step/total, with `text` and the time left when known."""
    total = status.total_steps or 0
    eta = f", about {status.eta_s:.0f} s left" if status.eta_s is not None else ""
    st.progress(min(status.step / total, 1.0) if total else 0.0, text=f"{text}{eta}")


def past_runs(summaries: list[runs.RunSummary], prefix: str, row: Callable[[runs.RunSummary], dict]) -> None:
    """The runs table (`row(summary)` gives the columns after the run's name) and a picker that
    opens one in the panel (`st.session_state[prefix + "run"]`)."""
    if not summaries:
        st.caption("No runs yet.")
        return
    st.dataframe([{"run": Path(r.run_dir).name, **row(r)} for r in summaries], hide_index=True)
    names = [Path(r.run_dir).name for r in summaries]
    picked = st.selectbox("Open a run", ["—"] + names, key=f"{prefix}open_run")
    if picked != "—" and st.button("Show it above", key=f"{prefix}open_btn"):
        st.session_state[f"{prefix}run"] = next(r.run_dir for r in summaries if Path(r.run_dir).name == picked)
        st.rerun()
