"""Fine-tune page: a dataset (upload or path) and its report -> model and method (pre-filled from
the advisor) -> launch a detached worker -> live progress, loss chart and log tail -> cancel or
resume; past runs below. Thin: each action is one call into `tuning`."""
from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from common.settings import load_settings
import runs
from tuning.data import FieldMapping
from tuning.errors import TuningError
from tuning.spec import JobSpec
from ui.errors import show_errors
from ui.forms import render_fields
from ui.handoff import offer, trainable_model, widget_values
from ui.model_choice import describe_model_field, offline_model_buttons

USER_ERRORS = (TuningError, ValidationError, FileNotFoundError, ValueError)
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
SPEC_FIELDS = ["method", "dpo_base", "lora_rank", "learning_rate", "epochs", "max_steps", "batch_size",
               "grad_accum", "max_seq_len", "gradient_checkpointing", "packing", "eval_fraction", "seed"]
settings = load_settings()


def advice_defaults() -> dict:
    """JobSpec fields from the advisor's recommendation (`st.session_state["recommendation"]`)
    and answers, when the user went through the advisor first."""
    plan = getattr(st.session_state.get("recommendation"), "finetune", None)
    answers = st.session_state.get("answers")
    named = getattr(answers, "model", None)  # a catalog name or a size: train its hub id (ui.handoff)
    out: dict = {"model": trainable_model(named) if named else None}
    if plan is not None:
        from tuning.from_advice import job_fields

        out |= {"model": trainable_model(plan.model)} | job_fields(plan)
    return {k: v for k, v in out.items() if v is not None and k in JobSpec.model_fields}


def saved_upload(upload) -> Path | None:
    """Save an upload under a generated name (the user's file name is never a path)."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in DATA_SUFFIXES:
        st.error(f"{upload.name}: use a {', '.join(DATA_SUFFIXES)} file")
        return None
    if upload.size > settings.max_upload_mb * 1024 * 1024:
        st.error(f"{upload.name} is {upload.size / 2**20:.0f} MB: the limit is {settings.max_upload_mb} MB")
        return None
    key = f"ft_saved_{upload.file_id}"
    if key not in st.session_state:  # once per upload, not once per rerun
        folder = settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(upload.getvalue())
        st.session_state[key] = str(path)
    return Path(st.session_state[key])


def mapping_inputs() -> FieldMapping | None:
    with st.expander("Column mapping (only for columns that are not a recognised shape)"):
        c1, c2, c3 = st.columns(3)
        given = {
            "prompt_field": c1.text_input("Prompt column", key="ft_prompt_field"),
            "completion_field": c2.text_input("Completion column", key="ft_completion_field"),
            "messages_field": c3.text_input("Messages column", key="ft_messages_field"),
            "chosen_field": c1.text_input("Chosen column (DPO)", key="ft_chosen_field"),
            "rejected_field": c2.text_input("Rejected column (DPO)", key="ft_rejected_field"),
        }
    given = {k: v.strip() for k, v in given.items() if v and v.strip()}
    return FieldMapping(**given) if given else None


def show_status(run_dir: Path) -> None:
    """Progress bar, loss chart and log tail of one run."""
    status = runs.refresh_status(run_dir)
    total = status.total_steps or 0
    eta = f", about {status.eta_s:.0f} s left" if status.eta_s is not None else ""
    st.progress(min(status.step / total, 1.0) if total else 0.0,
                text=f"{status.state}: step {status.step}/{total or '?'}{eta}")
    if status.error:
        (st.warning if status.state == "cancelled" else st.error)(status.error)
    metrics = runs.read_metrics(run_dir)
    losses = [{"step": m["step"], **{k: m[k] for k in ("loss", "eval_loss") if k in m}} for m in metrics]
    if losses:
        import pandas as pd

        st.line_chart(pd.DataFrame(losses).groupby("step").last(), x_label="step", y_label="loss")
    tail = runs.tail_log(run_dir, 12)
    if tail:
        st.code(tail, language=None)


def live_run(run_dir: Path) -> None:
    """The run's panel; while the run goes on it reruns every 2 s on its own (a fragment, not the
    whole page), and once it ends one full rerun refreshes the runs list and stops the timer."""
    status = runs.refresh_status(run_dir)
    if not status.done:
        st.session_state["ft_watching"] = str(run_dir)
    elif st.session_state.pop("ft_watching", None) == str(run_dir):
        st.rerun()  # it just ended: refresh the whole page once
    show_status(run_dir)
    c1, c2 = st.columns(2)
    if not status.done and c1.button("Cancel", key="ft_cancel_btn", help="Stops after the current step, "
                                     "saving a checkpoint; the processes are ended after 15 s at most."):
        with st.spinner("Stopping at the end of the step…"):
            runs.cancel(run_dir, grace_s=15)
        st.rerun()
    if status.state in ("cancelled", "failed") and c2.button("Resume", key="ft_resume_btn",
                                                             help="Continue from the last checkpoint."):
        try:
            runs.resume(run_dir)
        except USER_ERRORS as exc:
            show_errors(exc)
        st.rerun()


st.title("Fine-tune")
st.caption("Train a LoRA, QLoRA, full or DPO model with transformers + peft + trl. The run is its own "
           "process: closing this tab does not stop it. Runs are kept in " f"`{settings.runs_dir}`.")

# ---- dataset
with st.container(border=True):
    st.subheader("Dataset")
    upload = st.file_uploader(f"Upload a dataset (up to {settings.max_upload_mb} MB)",
                              type=[s.lstrip(".") for s in DATA_SUFFIXES], key="ft_upload")
    typed = st.text_input("…or a file on this machine", key="ft_data_path", placeholder="/path/to/train.jsonl")
    data_path = saved_upload(upload) if upload is not None else (Path(typed.strip()) if typed.strip() else None)
    try:
        mapping = mapping_inputs()
    except ValidationError as exc:
        mapping = None
        show_errors(exc)
    near_dup = st.checkbox("Look for near-duplicates (loads an embedding model, ~10 s)", value=False,
                           key="ft_near_dup")

# ---- model and method
with st.container(border=True):
    st.subheader("Model and method")
    prefill = advice_defaults()
    if prefill:
        st.caption("Pre-filled from the advisor's recommendation; change anything.")
    c1, c2 = st.columns([3, 1])
    with c2:
        offline_model_buttons("ft_model")
    offer(st.session_state, widget_values(JobSpec, "ft_", prefill))  # what was typed here stays
    st.session_state.setdefault("ft_model", "")
    model = c1.text_input("Base model (hub id, folder or offline model name)", key="ft_model")
    with c1:
        describe_model_field(model)
    values = render_fields(JobSpec, "ft_", fields=SPEC_FIELDS, defaults=prefill, columns=3)

# ---- check and launch
spec = report = None
if data_path is not None and model.strip():
    try:
        spec = JobSpec(model=model.strip(), data=str(data_path), mapping=mapping,
                       output=str(settings.new_run_dir(values['method'])),
                       near_dup_threshold=0.9 if near_dup else None, **values)
    except ValidationError as exc:
        show_errors(exc)
c1, c2 = st.columns(2)
check = c1.button("Check the dataset", key="ft_check_btn", disabled=spec is None)
launch = c2.button("Launch training", key="ft_launch_btn", type="primary", disabled=spec is None)
if spec is not None and (check or launch):
    from tuning.worker import validate

    try:
        with st.spinner("Reading and checking the dataset…"):
            report = validate(spec)
    except USER_ERRORS as exc:
        show_errors(exc)
    if report is not None:
        st.session_state["ft_report_md"] = report.to_markdown()
        for line in report.error_lines():
            st.error(line)
if launch and report is not None and report.ok:
    try:
        run_dir = runs.create_run(spec)
        report.write(run_dir)  # the worker reuses this report
        runs.start_worker(run_dir)
        st.session_state["ft_run"] = str(run_dir)
        st.success(f"Started: {run_dir}")
    except USER_ERRORS as exc:
        show_errors(exc)
if st.session_state.get("ft_report_md"):
    with st.expander("Dataset report", expanded=not launch):
        st.markdown(st.session_state["ft_report_md"])

# ---- the current run, live
past = runs.list_runs(settings.runs_dir)
if st.session_state.get("ft_run"):
    with st.container(border=True):
        st.subheader(f"Run {Path(st.session_state['ft_run']).name}")
        current = Path(st.session_state["ft_run"])
        running = not runs.refresh_status(current).done
        st.fragment(live_run, run_every=2 if running else None)(current)

# ---- past runs
with st.container(border=True):
    st.subheader("Runs")
    if not past:
        st.caption("No runs yet.")
    else:
        st.dataframe([{"run": Path(r.run_dir).name, "kind": r.kind, "state": r.status.state,
                       "step": f"{r.status.step}/{r.status.total_steps or '?'}", "method": r.method,
                       "model": r.model, "final loss": r.final_loss, "eval loss": r.eval_loss} for r in past],
                     hide_index=True)
        names = [Path(r.run_dir).name for r in past]
        picked = st.selectbox("Open a run", ["—"] + names, key="ft_open_run")
        if picked != "—" and st.button("Show it above", key="ft_open_btn"):
            st.session_state["ft_run"] = next(r.run_dir for r in past if Path(r.run_dir).name == picked)
            st.rerun()
