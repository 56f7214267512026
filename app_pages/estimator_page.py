"""Estimator page: every EstimateRequest input as a widget, the per-GPU memory breakdown as a
stacked bar, the which-GPUs-fit table (cheapest first), time and cost, serving latency and $ per 1k
queries, suggestions, assumptions. Fields the stack decides start empty ("(none)": the stack's choice)."""
import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from advisor.handoff import estimate_fields
from estimator import EstimateRequest, estimate, fit_table, list_gpus, list_models, load_model_spec
from estimator.errors import EstimatorError
from estimator.estimate import COMPONENTS
from ui.errors import show_errors
from ui.forms import render_fields
from ui.handoff import offer, session_advice, widget_values

PREFIX = "est_"
MODEL_FIELDS = ["model", "method", "stack", "device", "precision", "pure_bf16", "quant", "double_quant",
                "quant_saves_inputs"]
LORA_FIELDS = ["lora_rank", "lora_targets", "lora_dropout"]
BATCH_FIELDS = ["batch_size", "seq_len", "gradient_accumulation", "gradient_checkpointing", "activation_offloading",
                "attention", "loss", "optimizer", "optimizer_foreach"]
SCALE_FIELDS = ["gpus", "sharding", "offload_optimizer", "gpu", "train_tokens", "epochs", "mfu"]
SERVING_FIELDS = ["prompt_tokens", "output_tokens", "concurrency", "mbu"]
# Yes/no fields the stack decides when left empty: a select box keeps "(none)" (the stack's choice).
STACK_CHOICES = {name: [True, False] for name in ("pure_bf16", "optimizer_foreach", "activation_offloading")}


def _prefill_from_answers() -> None:
    """Start from the advisor's recommended setup, so the page shows its figure (ui.handoff: what
    the user typed here stays unless the advice changed)."""
    offer(st.session_state, widget_values(EstimateRequest, PREFIX, estimate_fields(*session_advice(st.session_state))))


def _inputs() -> dict:
    models = [m.id for m in list_models()]
    gpus = [g.name for g in list_gpus()]
    values = {}
    with st.sidebar:
        st.header("Model and method")
        values |= render_fields(EstimateRequest, PREFIX, MODEL_FIELDS, defaults={"model": "meta-llama/Llama-3.1-8B"},
                                options=STACK_CHOICES)
        st.caption("Catalog: " + ", ".join(models[:6]) + ", ... (`ftadvisor models`)")
        st.header("LoRA")
        values |= render_fields(EstimateRequest, PREFIX, LORA_FIELDS)
        st.header("Batch and step")
        values |= render_fields(EstimateRequest, PREFIX, BATCH_FIELDS, options=STACK_CHOICES)
        st.header("GPUs, time and cost")
        values |= render_fields(EstimateRequest, PREFIX, SCALE_FIELDS, options={"gpu": gpus})
        st.header("Serving (method inference)")
        values |= render_fields(EstimateRequest, PREFIX, SERVING_FIELDS)
    return values


def _breakdown_chart(result) -> alt.Chart:
    rows = [{"what": "per GPU", "component": k, "order": i, "GiB": result.memory_gib[k]}
            for i, k in enumerate(COMPONENTS) if result.memory_gib[k] > 0]
    return alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("GiB:Q", stack="zero", title="GiB per GPU"), y=alt.Y("what:N", title=None),
        color=alt.Color("component:N", sort=list(COMPONENTS)), order=alt.Order("order:Q"),
        tooltip=["component", "GiB"]).properties(height=140)


def _fit_frame(rows) -> pd.DataFrame:
    return pd.DataFrame([{
        "GPU": r.gpu, "memory GiB": r.memory_gib, "fits as asked": r.fits, "fewest GPUs": r.min_gpus,
        "sharding": r.sharding, "GiB per GPU": r.total_gib, "hours": r.time_hours, "cost USD": r.cost_usd,
        "$/GPU-hour": r.usd_per_hour, "note": r.note} for r in rows])


def _serving(s) -> None:
    cols = st.columns(4)
    cols[0].metric("Latency per request (s)", f"{s.latency_s:,.2f}")
    cols[1].metric("Tokens/s per request", f"{s.decode_tokens_per_s:,.1f}")
    cols[2].metric("Prefill (ms)", f"{s.prefill_s * 1e3:,.1f}")
    cols[3].metric("$ per 1k queries", f"{s.usd_per_1k_queries:,.4f}")
    st.caption(f"{s.gpu}, decoding {s.decode_bound}-bound: {s.formula}")


def main() -> None:
    st.title("Estimator")
    st.write("Peak GPU memory per component, which GPUs fit, and time and cost for a fine-tuning run; with method "
             "inference, prompt and output tokens, the serving latency and cost per 1k queries.")
    _prefill_from_answers()
    values = _inputs()
    try:
        req = EstimateRequest(**values)
        spec = load_model_spec(req.model)
        result = estimate(req, spec)
        table = fit_table(req, spec)
    except (ValidationError, EstimatorError, ValueError) as exc:
        show_errors(exc)
        return
    if result.approximate:
        st.warning(f"{req.model!r} is a bare size: the shape is representative, not exact.")
    cols = st.columns(4)
    cols[0].metric("Total per GPU (GiB)", f"{result.memory_gib['total']:.2f}")
    cols[1].metric("Band (GiB)", f"{result.band.low_gib:.1f} - {result.band.high_gib:.1f}")
    cols[2].metric("Trainable params", f"{result.params_trainable:,}")
    cols[3].metric("Peak at", result.peak_phase)
    if result.gpu:
        (st.success if result.fits_gpu else st.error)(
            f"{req.gpus} x {result.gpu}: {'fits' if result.fits_gpu else 'does not fit'}")
    if result.time_hours is not None:
        st.info(f"Time {result.time_hours:,.2f} h, cost ${result.cost_usd:,.2f} ({result.time_formula})")
    if result.serving is not None:
        _serving(result.serving)
    st.altair_chart(_breakdown_chart(result), width="stretch")
    st.dataframe(pd.DataFrame([{"component": k, "GiB": result.memory_gib[k], "formula": result.components[k]}
                               for k in COMPONENTS]), hide_index=True)
    st.subheader("Which GPUs fit (cheapest first)")
    st.dataframe(_fit_frame(table), hide_index=True)
    if result.suggestions:
        st.subheader("What it would take to fit" + (f" {result.gpu}" if result.gpu else ""))
        for s in result.suggestions:
            st.write(f"- {s.change}: {s.total_gib:.1f} GiB {'(fits)' if s.fits else ''}")
    st.subheader("Assumptions")
    st.markdown("\n".join(f"- {a}" for a in result.assumptions))


main()
