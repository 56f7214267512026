"""Compare page: a Q/A dataset (upload or path), documents (optional), a model (or the tiny
offline one) and the arms' settings (pre-filled from the advisor) -> launch a detached
comparison run -> its stages live -> the metric table, a chart per metric, the answers side by
side with the reference, and estimated vs measured memory and cost. Thin: each action is one
call into `compare` or `runs`."""
from __future__ import annotations

import re
import uuid
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from common.settings import load_settings
from compare.launch import defaults_from_advice, launch_comparison
from compare.results import METRIC_LABELS, answers_key, load_results, metric_rows, read_side_by_side
from compare.spec import ARM_TITLES, ARMS, CompareSpec, FinetuneSettings, GenerationSettings, RagSettings
from estimator import list_gpus
import runs
from tuning.data import FieldMapping
from ui.errors import show_errors
from ui.forms import render_fields
from ui.handoff import offer, trainable_model, widget_values
from ui.model_choice import describe_model_field, offline_model_buttons

USER_ERRORS = (ValidationError, ValueError, FileNotFoundError)
DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
DOC_SUFFIXES = (".txt", ".md", ".csv", ".json", ".jsonl", ".sql", ".html", ".htm", ".pdf")
STAGE_ICONS = {"completed": ":green[:material/check_circle:]", "running": ":blue[:material/progress_activity:]",
               "pending": ":gray[:material/radio_button_unchecked:]", "cancelled": ":orange[:material/stop_circle:]",
               "failed": ":red[:material/error:]"}
settings = load_settings()


def too_big(upload) -> bool:
    if upload.size > settings.max_upload_mb * 1024 * 1024:
        st.error(f"{upload.name} is {upload.size / 2**20:.0f} MB: the limit is {settings.max_upload_mb} MB")
        return True
    return False


def safe_name(name: str, index: int) -> str:
    """A file name made only of letters, digits, '.', '_' and '-' (the user's name is never used
    as a path as is); its stem is kept so hit@k can match a column naming the document."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem).strip("_")[:80] or f"doc{index}"
    return f"{stem}{Path(name).suffix.lower()}"


def saved_data(upload) -> Path | None:
    """Save the dataset upload once, under a generated name."""
    suffix = Path(upload.name).suffix.lower()
    if suffix not in DATA_SUFFIXES:
        st.error(f"{upload.name}: use a {', '.join(DATA_SUFFIXES)} file")
        return None
    if too_big(upload):
        return None
    key = f"cmp_saved_{upload.file_id}"
    if key not in st.session_state:
        folder = settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}{suffix}"
        path.write_bytes(upload.getvalue())
        st.session_state[key] = str(path)
    return Path(st.session_state[key])


def saved_docs(uploads) -> Path | None:
    """Save the document uploads once into a new folder under generated, sanitised names."""
    kept = [u for u in uploads if Path(u.name).suffix.lower() in DOC_SUFFIXES and not too_big(u)]
    if not kept:
        return None
    key = "cmp_saved_docs_" + "_".join(sorted(u.file_id for u in kept))
    if key not in st.session_state:
        folder = settings.home / "uploads" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        for i, upload in enumerate(kept):
            name = safe_name(upload.name, i)
            if (folder / name).exists():
                name = f"{i}-{name}"
            (folder / name).write_bytes(upload.getvalue())
        st.session_state[key] = str(folder)
    return Path(st.session_state[key])


def prefill() -> dict:
    """CompareSpec fields from the advisor (answers, recommendation), when it ran first."""
    answers, rec = st.session_state.get("answers"), st.session_state.get("recommendation")
    out = defaults_from_advice(answers, rec)
    plan = getattr(rec, "finetune", None)
    model = getattr(plan, "model", None) or getattr(answers, "model", None)
    if model and trainable_model(model):  # a catalog name -> the hub id to load; a bare size names no weights
        out["model"] = trainable_model(model)
    return out


def advice_key() -> str | None:
    """Links the run to the advisor's answers, so the advisor's report can find it."""
    answers = st.session_state.get("answers")
    return answers_key(answers) if answers is not None else None


def show_stages(status) -> None:
    """The stages as a line of icons, and the current stage's progress bar."""
    st.markdown("&nbsp;&nbsp;".join(f"{STAGE_ICONS.get(state, '')} {name}" for name, state in status.stages.items())
                or "queued")
    if status.state == "running" and status.stage:
        total = status.total_steps or 0
        text = f"{status.stage}: {status.step}/{total or '?'}"
        if status.loss is not None:
            text += f", loss {status.loss:.3f}"
        if status.eta_s is not None:
            text += f", about {status.eta_s:.0f} s left"
        st.progress(min(status.step / total, 1.0) if total else 0.0, text=text)
    if status.error:
        (st.warning if status.state == "cancelled" else st.error)(status.error)


def run_controls(run_dir: Path, status) -> None:
    """Cancel while it runs; resume once cancelled or failed; the log tail until it completes."""
    c1, c2 = st.columns(2)
    if not status.done and c1.button("Cancel", key="cmp_cancel_btn",
                                     help="Stops after the current question or training step; resume later."):
        with st.spinner("Stopping…"):
            runs.cancel(run_dir, grace_s=30)
        st.rerun()
    if status.state in ("cancelled", "failed") and c2.button("Resume", key="cmp_resume_btn",
                                                             help="Continue from the stage it reached."):
        try:
            runs.resume(run_dir)
        except USER_ERRORS as exc:
            show_errors(exc)
        st.rerun()
    if status.state != "completed":
        tail = runs.tail_log(run_dir, 8)
        if tail:
            st.code(tail, language=None)


@st.fragment(run_every=2)
def live_run(run_dir: Path) -> None:
    """Reruns every 2 s on its own (not the whole page) while the run goes on; when it ends,
    the whole page reruns once and shows the run statically (no more polling)."""
    status = runs.refresh_status(run_dir)
    if status.done:
        st.rerun()
    st.caption(f"{status.state} · `{run_dir}`")
    show_stages(status)
    run_controls(run_dir, status)


def show_run(run_dir: Path) -> None:
    status = runs.refresh_status(run_dir)
    if not status.done:
        live_run(run_dir)
        return
    st.caption(f"{status.state} · `{run_dir}`")
    show_stages(status)
    run_controls(run_dir, status)
    if status.state == "completed":
        show_results(run_dir)


def show_results(run_dir: Path) -> None:
    import pandas as pd

    try:
        results = load_results(run_dir)
    except USER_ERRORS as exc:
        show_errors(exc)
        return
    st.subheader("Metrics")
    st.caption(f"{results.eval_examples} held-out questions, trained on {results.train_examples}; "
               f"the same generation settings for every arm.")
    table = pd.DataFrame(metric_rows(results)).set_index("arm")
    st.dataframe(table, width="stretch")
    if results.hit_definition:
        st.caption(f"hit@k: {results.hit_definition}")
    cols = st.columns(4)
    for i, label in enumerate(METRIC_LABELS.values()):
        series = table[label].dropna()
        if series.empty:
            continue
        with cols[i % 4]:
            st.markdown(f"**{label}**")
            st.bar_chart(series, height=180, x_label="", y_label="")
    st.subheader("Answers side by side")
    st.dataframe(pd.DataFrame(read_side_by_side(run_dir)), width="stretch", hide_index=True)
    st.subheader("Memory, time and cost")
    t = results.training
    if t is not None:
        st.dataframe(pd.DataFrame([
            {"figure": "peak memory here (GiB)", "measured": t.measured_peak_gib, "estimated": t.estimated_peak_gib},
            {"figure": f"peak memory at {results.costs.gpu if results.costs else 'GPU'} (GiB)", "measured": None,
             "estimated": t.estimated_peak_gib_at_gpu},
            {"figure": "training time (s)", "measured": t.seconds,
             "estimated": t.estimated_hours_at_gpu * 3600 if t.estimated_hours_at_gpu is not None else None},
            {"figure": "training cost ($)", "measured": t.cost_usd, "estimated": t.estimated_cost_usd},
        ]), hide_index=True)
        if t.measured_kind:
            st.caption(f"Measured: {t.measured_kind}. Estimated here: the estimator for the same setup on this "
                       "device; at the GPU: the estimator at the chosen GPU.")
    c = results.costs
    if c is not None and c.usd_per_hour is not None:
        st.dataframe(pd.DataFrame([{"arm": a, "$ / 1k queries": x.per_1k_queries_usd, "fixed $": x.fixed_usd}
                                   for a, x in c.arms.items()]), hide_index=True)
        st.caption(f"{c.gpu} at ${c.usd_per_hour:.2f}/h. {c.basis}")
        for b in c.break_even:
            st.markdown(f"- {b.note}")
    for note in results.notes:
        st.caption(note)
    d1, d2 = st.columns(2)
    d1.download_button("results.json", results.model_dump_json(indent=2), "results.json", "application/json",
                       key="cmp_results_download")
    d2.download_button("metrics.md", results.to_markdown(), "metrics.md", "text/markdown", key="cmp_metrics_download")


st.title("Compare")
st.caption("Prompting, RAG, a fine-tuned model and the hybrid answer the same held-out questions from your own "
           "data. The run is its own process: closing this tab does not stop it. Runs are kept in "
           f"`{settings.runs_dir}`.")
advice = prefill()
if advice:
    st.info("Pre-filled from the advisor's recommendation; change anything.")

with st.container(border=True):
    st.subheader("Questions and answers")
    upload = st.file_uploader(f"Upload a dataset (up to {settings.max_upload_mb} MB)",
                              type=[s.lstrip(".") for s in DATA_SUFFIXES], key="cmp_data_upload")
    typed = st.text_input("…or a file on this machine", key="cmp_data_path", placeholder="/path/to/qa.csv")
    data_path = saved_data(upload) if upload is not None else (Path(typed.strip()) if typed.strip() else None)
    with st.expander("Column mapping (only for columns that are not a recognised shape)"):
        c1, c2, c3 = st.columns(3)
        prompt_field = c1.text_input("Question column", key="cmp_prompt_field").strip()
        completion_field = c2.text_input("Answer column", key="cmp_completion_field").strip()
        relevant_field = c3.text_input("Column naming the answering document (for hit@k)",
                                       key="cmp_relevant_field").strip()

with st.container(border=True):
    st.subheader("Documents for retrieval (optional)")
    doc_uploads = st.file_uploader("Upload documents", type=[s.lstrip(".") for s in DOC_SUFFIXES],
                                   accept_multiple_files=True, key="cmp_docs_upload")
    docs_typed = st.text_input("…or a file or folder on this machine", key="cmp_docs_path",
                               placeholder="empty: the training answers become the knowledge base")
    docs_path = saved_docs(doc_uploads) if doc_uploads else (Path(docs_typed.strip()) if docs_typed.strip() else None)

with st.container(border=True):
    st.subheader("Model and arms")
    c1, c2 = st.columns([3, 1])
    with c2:
        offline_model_buttons("cmp_model")
    # The advice as starting values; what was typed here stays unless the advice changes (ui.handoff).
    offer(st.session_state, widget_values(CompareSpec, "cmp_", {k: advice.get(k) for k in ("model", "gpu")}))
    offer(st.session_state, widget_values(FinetuneSettings, "cmp_ft_", advice.get("finetune") or {}))
    st.session_state.setdefault("cmp_model", "")
    model = c1.text_input("Base model (hub id, folder or offline model name)", key="cmp_model")
    with c1:
        describe_model_field(model)
    arms = st.multiselect("Arms", list(ARMS), default=list(ARMS), key="cmp_arms", format_func=ARM_TITLES.get,
                          help="Every arm answers the same held-out questions with the same generation settings.")
    top = render_fields(CompareSpec, "cmp_", fields=["eval_fraction", "eval_count", "seed", "gpu"],
                        defaults={k: v for k, v in advice.items() if k == "gpu"},
                        options={"gpu": [g.name for g in list_gpus()]}, columns=4)
    st.markdown("**Fine-tuned arms**")
    finetune = render_fields(FinetuneSettings, "cmp_ft_", defaults=advice.get("finetune"), columns=4)
    st.markdown("**Retrieval and generation (the same for every arm)**")
    rag = render_fields(RagSettings, "cmp_rag_", columns=4)
    generation = render_fields(GenerationSettings, "cmp_gen_", fields=["max_new_tokens", "greedy", "temperature"],
                               columns=3)

spec = None
if data_path is not None and model.strip() and arms:
    try:
        mapping_given = {k: v for k, v in (("prompt_field", prompt_field), ("completion_field", completion_field)) if v}
        spec = CompareSpec(
            data=data_path, mapping=FieldMapping(**mapping_given) if mapping_given else None,
            relevant_field=relevant_field or None, docs=[docs_path] if docs_path else [], model=model.strip(),
            arms=arms, finetune=finetune, rag=rag, generation=generation, answers_key=advice_key(),
            output=settings.new_run_dir("compare"), **top,
        )
    except USER_ERRORS as exc:
        show_errors(exc)
if st.button("Launch the comparison", key="cmp_launch_btn", type="primary", disabled=spec is None):
    try:
        with st.spinner("Checking the dataset…"):
            run_dir = launch_comparison(spec)
        st.session_state["cmp_run"] = str(run_dir)
        st.success(f"Started: {run_dir}")
    except USER_ERRORS as exc:
        show_errors(exc)

past = [r for r in runs.list_runs(settings.runs_dir) if r.kind == "compare"]
linked = st.query_params.get("run")  # ?run=NAME opens a past run (only names of listed runs)
if linked and not st.session_state.get("cmp_run"):
    st.session_state["cmp_run"] = next((r.run_dir for r in past if Path(r.run_dir).name == linked), None)
if st.session_state.get("cmp_run"):
    with st.container(border=True):
        st.subheader(f"Run {Path(st.session_state['cmp_run']).name}")
        show_run(Path(st.session_state["cmp_run"]))

with st.container(border=True):
    st.subheader("Comparison runs")
    if not past:
        st.caption("No comparison runs yet.")
    else:
        st.dataframe([{"run": Path(r.run_dir).name, "state": r.status.state, "stage": r.status.stage,
                       "model": r.model} for r in past], hide_index=True)
        names = [Path(r.run_dir).name for r in past]
        picked = st.selectbox("Open a run", ["—"] + names, key="cmp_open_run")
        if picked != "—" and st.button("Show it above", key="cmp_open_btn"):
            st.session_state["cmp_run"] = next(r.run_dir for r in past if Path(r.run_dir).name == picked)
            st.rerun()
