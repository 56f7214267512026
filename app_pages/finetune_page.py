"""Fine-tune page: a dataset (upload or path) and its report -> model and method (pre-filled from
the advisor) -> launch a detached worker -> live progress, loss chart and log tail -> cancel or
resume; past runs below. Thin: each action is one call into `tuning` or `ui.runs`."""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from pydantic import ValidationError

import runs
from advisor.handoff import tune_fields
from common.paths import readable_on_a_page
from common.settings import load_settings
from lm.refs import readable_model_ref
from tuning.data import DatasetReport, FieldMapping
from tuning.data.readers import DATA_SUFFIXES
from tuning.errors import DatasetRefused, TuningError
from tuning.spec import JobSpec
from ui.errors import show_errors
from ui.forms import render_fields
from ui.handoff import offer, session_advice, widget_values
from ui.launch_once import launch_once, live_run
from ui.model_choice import describe_model_field, offline_model_buttons
from ui.runs import past_runs, progress_bar, run_panel
from ui.uploads import kept_upload

USER_ERRORS = (TuningError, ValidationError, FileNotFoundError, ValueError)
SPEC_FIELDS = ["method", "dpo_base", "lora_rank", "learning_rate", "epochs", "max_steps", "batch_size",
               "grad_accum", "max_seq_len", "gradient_checkpointing", "packing", "eval_fraction", "seed"]
CANCEL_GRACE_S = 15  # a step of a small job takes seconds; a stuck one is ended after this
settings = load_settings()


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


def loss_and_progress(run_dir: Path, status: runs.RunStatus) -> None:
    """The run panel's details: the step bar, and the loss and eval-loss chart of metrics.jsonl."""
    progress_bar(status, f"{status.state}: step {status.step}/{status.total_steps or '?'}")
    losses = [{"step": m["step"], **{k: m[k] for k in ("loss", "eval_loss") if k in m}}
              for m in runs.read_metrics(run_dir)]
    if losses:
        import pandas as pd

        st.line_chart(pd.DataFrame(losses).groupby("step").last(), x_label="step", y_label="loss")


def run_row(summary: runs.RunSummary) -> dict:
    return {"kind": summary.kind, "state": summary.state,
            "step": f"{summary.status.step}/{summary.status.total_steps or '?'}", "method": summary.method,
            "model": summary.model, "final loss": summary.final_loss, "eval loss": summary.eval_loss}


def show_report(report: DatasetReport) -> None:
    """Keep the dataset report for the expander below; its blocking problems, one line each."""
    st.session_state["ft_report_md"] = report.to_markdown()
    for line in report.error_lines():
        st.error(line)


st.title("Fine-tune")
st.caption("Train a LoRA, QLoRA, full or DPO model with transformers + peft + trl. The run is its own "
           "process: closing this tab does not stop it. Runs are kept in " f"`{settings.runs_dir}`.")

# ---- dataset
with st.container(border=True):
    st.subheader("Dataset")
    upload = st.file_uploader(f"Upload a dataset (up to {settings.max_upload_mb} MB)",
                              type=[s.lstrip(".") for s in DATA_SUFFIXES], key="ft_upload")
    typed = st.text_input("…or a file on this machine", key="ft_data_path", placeholder="/path/to/train.jsonl")
    data_path = None
    try:  # an upload lands in the uploads folder; a typed path must lie where a page may read
        if upload is not None:
            data_path = kept_upload(upload, DATA_SUFFIXES, settings)
        elif typed.strip():
            data_path = readable_on_a_page(typed, "data", settings)
    except ValueError as exc:
        show_errors(exc)
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
    prefill = tune_fields(*session_advice(st.session_state))
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
spec = None
if data_path is not None and model.strip():
    try:
        spec = JobSpec(model=readable_model_ref(model, settings), data=str(data_path), mapping=mapping,
                       output=str(settings.new_run_dir(values['method'])),
                       near_dup_threshold=0.9 if near_dup else None, **values)
    except USER_ERRORS as exc:
        show_errors(exc)
c1, c2 = st.columns(2)
check = c1.button("Check the dataset", key="ft_check_btn", disabled=spec is None)
running = live_run(st.session_state, "ft_launched", spec)  # this very form, launched and not ended
launch = c2.button("Launch training", key="ft_launch_btn", type="primary", disabled=spec is None or bool(running),
                   help=f"This training is running ({running.name}): change a setting to launch another." if running
                   else None)
if spec is not None and check:
    from tuning.worker import validate

    try:
        with st.spinner("Reading and checking the dataset…"):
            show_report(validate(spec))
    except USER_ERRORS as exc:
        show_errors(exc)
if spec is not None and launch:
    from tuning.jobs import launch_job

    try:
        with st.spinner("Checking the dataset and starting the worker…"):
            job, new = launch_once(st.session_state, "ft_launched", spec, launch_job, lambda j: j.run_dir)
    except DatasetRefused as exc:
        show_report(exc.report)
    except USER_ERRORS as exc:
        show_errors(exc)
    else:
        show_report(job.report)
        st.session_state["ft_run"] = str(job.run_dir)
        (st.success if new else st.info)(f"{'Started' if new else 'Already started'}: {job.run_dir}")
if st.session_state.get("ft_report_md"):
    with st.expander("Dataset report", expanded=not launch):
        st.markdown(st.session_state["ft_report_md"])

# ---- the current run, live
if st.session_state.get("ft_run"):
    with st.container(border=True):
        st.subheader(f"Run {Path(st.session_state['ft_run']).name}")
        run_panel(Path(st.session_state["ft_run"]), "ft_", loss_and_progress, cancel_grace_s=CANCEL_GRACE_S)

# ---- past runs
with st.container(border=True):
    st.subheader("Runs")
    past_runs(runs.list_runs(settings.runs_dir), "ft_", run_row)
