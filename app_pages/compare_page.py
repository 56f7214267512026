"""Compare page: a Q/A dataset (upload or path), documents (optional), a model (the offline
SmolLM2 one click away) and the arms' settings (pre-filled from the advisor) -> launch a detached
comparison run -> its stages live -> what the evidence shows (ui.comparison_view). Thin: each
action is one call into `compare`, `runs` or `common`."""
from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

import runs
from advisor.handoff import compare_fields
from common.paths import readable_on_a_page
from common.settings import load_settings
from common.vocabulary import SCORERS
from compare.launch import launch_comparison
from compare.results import answers_key
from compare.spec import (
    ARM_TITLES,
    ARMS,
    TEXT_METRICS,
    CompareSpec,
    FinetuneSettings,
    GenerationSettings,
    PromptingSettings,
    RagSettings,
)
from estimator import list_gpus
from lm.refs import readable_model_ref
from rag_baseline.ingest import SUPPORTED_SUFFIXES
from tuning.data import FieldMapping
from tuning.data.readers import DATA_SUFFIXES
from ui.comparison_view import show_results
from ui.errors import show_errors
from ui.forms import render_fields
from ui.handoff import offer, session_advice, widget_values
from ui.launch_once import launch_once, live_run
from ui.model_choice import describe_model_field, offline_model_buttons
from ui.runs import past_runs, progress_bar, run_panel
from ui.uploads import kept_upload

USER_ERRORS = (ValidationError, ValueError, FileNotFoundError)
STAGE_ICONS = {"completed": ":green[:material/check_circle:]", "running": ":blue[:material/progress_activity:]",
               "pending": ":gray[:material/radio_button_unchecked:]", "cancelled": ":orange[:material/stop_circle:]",
               "failed": ":red[:material/error:]"}
settings = load_settings()


def saved(upload, suffixes: tuple[str, ...], folder: Path | None = None) -> Path | None:
    try:
        return kept_upload(upload, suffixes, settings, folder)
    except ValueError as exc:
        st.error(str(exc))
        return None


def saved_docs(uploads) -> Path | None:
    """The uploaded documents in one folder of their own (named by their contents: the same set
    uploaded again is the same folder), their names kept so hit@k can match a column to them."""
    digest = hashlib.sha256(b"".join(hashlib.sha256(u.name.encode() + u.getvalue()).digest()
                                     for u in sorted(uploads, key=lambda u: u.name))).hexdigest()[:16]
    folder = settings.uploads_dir / "documents" / digest
    kept = [saved(upload, SUPPORTED_SUFFIXES, folder) for upload in uploads]
    return folder if any(kept) else None


def typed_path(value: str, field: str) -> Path | None:
    """A path typed on the page, if it lies where this app may read (common.paths)."""
    if not value.strip():
        return None
    try:
        return readable_on_a_page(value, field, settings)
    except ValueError as exc:
        show_errors(exc)
        return None


def show_stages(run_dir: Path, status) -> None:
    """The stages as a line of icons, and the current stage's progress bar."""
    st.markdown("&nbsp;&nbsp;".join(f"{STAGE_ICONS.get(state, '')} {name}" for name, state in status.stages.items())
                or "queued")
    if status.state == "running" and status.stage:
        loss = f", loss {status.loss:.3f}" if status.loss is not None else ""
        progress_bar(status, f"{status.stage}: {status.step}/{status.total_steps or '?'}{loss}")


def scoring_inputs() -> dict | None:
    """The task-aware scorers chosen (compare.scoring.ScorerSpec fields), or None."""
    with st.expander("Task-aware scorers (next to exact match, token F1 and ROUGE-L)"):
        c1, c2 = st.columns(2)
        names = c1.multiselect("Scorers", list(SCORERS), key="cmp_scorers", help="json: the answer parses as "
                               "JSON; sql-exec: the query runs on PostgreSQL and returns the reference's rows "
                               "(the .sql documents are loaded into a private server).")
        db_field = c2.text_input("Column naming each question's database (sql-exec)", key="cmp_sql_db_field")
        schema = c1.text_input("JSON Schema file every answer must satisfy (json)", key="cmp_json_schema")
        user = c2.text_input("Your scorer: a .py file and its function, FILE.py:FUNCTION", key="cmp_user_scorer",
                             help="(question, answer, reference, row) -> a score in 0..1, run in the worker.")
    chosen: dict = {"names": list(names)}
    if db_field.strip():
        chosen["sql_db_field"] = db_field.strip()
    if schema.strip() and (path := typed_path(schema, "json_schema")):
        chosen["json_schema"] = path
    if user.strip():
        file, _, function = user.strip().rpartition(":")
        if (path := typed_path(file, "scorer file")) is not None:
            chosen["names"].append(f"python:{path}:{function}")
    return chosen if chosen["names"] else None


st.title("Compare")
st.caption("Prompting, RAG, a fine-tuned model and the hybrid answer the same held-out questions from your own "
           "data. The run is its own process: closing this tab does not stop it. Runs are kept in "
           f"`{settings.runs_dir}`.")
advice = compare_fields(*session_advice(st.session_state))  # CompareSpec fields from the advisor, when it ran first
if advice:
    st.info("Pre-filled from the advisor's recommendation; change anything.")

with st.container(border=True):
    st.subheader("Questions and answers")
    upload = st.file_uploader(f"Upload a dataset (up to {settings.max_upload_mb} MB)",
                              type=[s.lstrip(".") for s in DATA_SUFFIXES], key="cmp_data_upload")
    typed = st.text_input("…or a file on this machine", key="cmp_data_path",
                          placeholder=f"a file under {settings.data_dir}")
    data_path = (saved(upload, DATA_SUFFIXES) if upload is not None
                 else typed_path(typed, "data"))
    with st.expander("Column mapping (only for columns that are not a recognised shape)"):
        c1, c2, c3 = st.columns(3)
        prompt_field = c1.text_input("Question column", key="cmp_prompt_field").strip()
        completion_field = c2.text_input("Answer column", key="cmp_completion_field").strip()
        relevant_field = c3.text_input("Column naming the answering document (for hit@k)",
                                       key="cmp_relevant_field").strip()

with st.container(border=True):
    st.subheader("Documents for retrieval (optional)")
    doc_uploads = st.file_uploader("Upload documents", type=[suffix.lstrip(".") for suffix in SUPPORTED_SUFFIXES],
                                   accept_multiple_files=True, key="cmp_docs_upload")
    docs_typed = st.text_input("…or a file or folder on this machine", key="cmp_docs_path",
                               placeholder="empty: the training answers become the knowledge base")
    docs_path = saved_docs(doc_uploads) if doc_uploads else typed_path(docs_typed, "docs")

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
    top = render_fields(CompareSpec, "cmp_", fields=["eval_fraction", "eval_count", "seed", "gpu", "concurrency"],
                        defaults={k: v for k, v in advice.items() if k == "gpu"},
                        options={"gpu": [g.name for g in list_gpus()]}, columns=5)
    st.markdown("**Prompting arms**")
    st.caption("Few-shot prompting gives the base model the training pairs nearest each question as earlier turns of "
               "the chat (never the question itself): prompting as the advisor means it. The same demonstrations can "
               "go to the RAG arm, to fix its answer format without training.")
    prompting = render_fields(PromptingSettings, "cmp_pr_", columns=2)
    st.markdown("**Fine-tuned arms**")
    st.caption("Method auto trains QLoRA on a GPU and LoRA on a CPU: bitsandbytes' 4-bit layers dequantize every "
               "weight at every step on a CPU, several times slower than 16-bit LoRA, for a memory saving a machine "
               "with RAM to spare does not need. Each fine-tuned arm gets its own adapter, trained on the prompts it "
               "answers (the hybrid's on retrieval prompts).")
    finetune = render_fields(FinetuneSettings, "cmp_ft_", defaults=advice.get("finetune"), columns=4)
    st.markdown("**Retrieval and generation (the same for every arm)**")
    rag = render_fields(RagSettings, "cmp_rag_", columns=4)
    generation = render_fields(GenerationSettings, "cmp_gen_", fields=["max_new_tokens", "greedy", "temperature",
                                                                        "batch_size", "latency_sample"], columns=5)
    scoring = scoring_inputs()
    ranked_by = render_fields(CompareSpec, "cmp_", fields=["primary_metric"], options={"primary_metric": [
        *TEXT_METRICS, *(scoring["names"] if scoring else [])]})

spec = None
model_ref = None
if model.strip():
    try:
        model_ref = readable_model_ref(model, settings)
    except ValueError as exc:
        show_errors(exc)
if data_path is not None and model_ref and arms:
    try:
        mapping_given = {k: v for k, v in (("prompt_field", prompt_field), ("completion_field", completion_field)) if v}
        answers = st.session_state.get("answers")
        spec = CompareSpec(
            data=data_path, mapping=FieldMapping(**mapping_given) if mapping_given else None,
            relevant_field=relevant_field or None, docs=[docs_path] if docs_path else [], model=model_ref,
            arms=arms, finetune=finetune, rag=rag, prompting=prompting, generation=generation, scoring=scoring,
            answers_key=answers_key(answers) if answers is not None else None,
            advised=advice.get("advised"),
            output=settings.new_run_dir("compare"), **top, **ranked_by,
        )
    except USER_ERRORS as exc:
        show_errors(exc)
running = live_run(st.session_state, "cmp_launched", spec)  # this very form, launched and not ended
if st.button("Launch the comparison", key="cmp_launch_btn", type="primary", disabled=spec is None or bool(running),
             help=f"This comparison is running ({running.name}): change a setting to launch another." if running
             else None):
    try:
        with st.spinner("Checking the dataset…"):
            run_dir, new = launch_once(st.session_state, "cmp_launched", spec, launch_comparison)
        st.session_state["cmp_run"] = str(run_dir)
        (st.success if new else st.info)(f"{'Started' if new else 'Already started'}: {run_dir}")
    except USER_ERRORS as exc:
        show_errors(exc)

past = [r for r in runs.list_runs(settings.runs_dir) if r.kind == "compare"]
linked = st.query_params.get("run")  # ?run=NAME opens a past run (only names of listed runs)
if linked and not st.session_state.get("cmp_run"):
    st.session_state["cmp_run"] = next((r.run_dir for r in past if Path(r.run_dir).name == linked), None)
if st.session_state.get("cmp_run"):
    current = Path(st.session_state["cmp_run"])
    with st.container(border=True):
        st.subheader(f"Run {current.name}")
        run_panel(current, "cmp_", show_stages)
        if runs.load_status(current).state == "completed":
            show_results(current)

with st.container(border=True):
    st.subheader("Comparison runs")
    past_runs(past, "cmp_", lambda r: {"state": r.state, "stage": r.status.stage, "model": r.model})
