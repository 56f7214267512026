"""The Advisor page (landing page): the questionnaire, grouped, recomputed on every change, with
the recommendation, its reasons, what would change it, the estimator's figures, next steps and
the report downloads. Widgets are laid out from `Answers.model_fields`; all logic is in
`advisor`."""
from __future__ import annotations

import typing

import streamlit as st
from pydantic import ValidationError

from advisor import Answers, recommend, render_report
from advisor.answers import GROUPS, NEED_LABELS
from advisor.recommendation import APPROACH_LABELS
from advisor.report import MEDIA_TYPES, plan_summary
from advisor.scenarios import load_scenarios
from ui.errors import show_errors
from ui.nav import show_links

P = "adv_"  # widget key prefix
SHORT = {"prompting": "Prompting", "rag": "RAG", "lora": "LoRA", "qlora": "QLoRA",
         "full_finetune": "Full FT"}
DEFAULTS = Answers.model_construct().model_dump()  # defaults without catalog lookups


def _gpu_names() -> list[str]:
    from estimator import list_gpus

    return [g.name for g in list_gpus()]


def _apply_example() -> None:
    """Fill every widget from the chosen scenario (runs before the widgets are drawn)."""
    name = st.session_state.get(f"{P}example")
    scenario = next((s for s in load_scenarios() if s.name == name), None)
    if scenario is None:
        return
    for field, value in scenario.answers.model_dump().items():
        st.session_state[P + field] = _to_widget(field, value)


def _to_widget(field: str, value):
    if field == "gpu":
        return value or "none"
    if field == "budget_usd":
        return None if value is None else float(value)
    return value


def _widget(field: str):
    info = Answers.model_fields[field]
    extra = info.json_schema_extra or {}
    label, help_text, key = info.description, extra.get("help"), P + field
    if key not in st.session_state:
        prefill = st.session_state.get("answers")
        value = getattr(prefill, field) if isinstance(prefill, Answers) else DEFAULTS[field]
        st.session_state[key] = _to_widget(field, value)
    ann = info.annotation
    if field == "use_case":
        return st.text_area(label, help=help_text, key=key, height=80)
    if field == "needs":
        return st.multiselect(label, list(NEED_LABELS), format_func=NEED_LABELS.get, help=help_text, key=key)
    if field == "gpu":
        return st.selectbox(label, ["none", *_gpu_names()], help=help_text, key=key)
    if typing.get_origin(ann) is typing.Literal:
        return st.selectbox(label, list(typing.get_args(ann)), help=help_text, key=key)
    if ann is bool:
        return st.toggle(label, help=help_text, key=key)
    if field == "budget_usd":
        return st.number_input(label, min_value=0.0, step=100.0, help=help_text, key=key,
                               placeholder="no limit")
    if ann is int:
        lo, hi = _bounds(info)
        return st.number_input(label, min_value=lo, max_value=hi, step=1, help=help_text, key=key)
    return st.text_input(label, help=help_text, key=key)


def _bounds(info) -> tuple[int | None, int | None]:
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", lo) if getattr(m, "ge", None) is not None else lo
        hi = getattr(m, "le", hi) if getattr(m, "le", None) is not None else hi
    return lo, hi


def questionnaire() -> dict:
    st.selectbox("Start from an example", [None, *[s.name for s in load_scenarios()]],
                 key=f"{P}example", on_change=_apply_example,
                 format_func=lambda n: "- choose one -" if n is None else n.replace("_", " "),
                 help="Fills in the answers of a worked scenario; change any answer afterwards.")
    values: dict = {}
    for group, title in GROUPS.items():
        with st.expander(title, expanded=group in ("goal", "data")):
            for field, info in Answers.model_fields.items():
                if (info.json_schema_extra or {}).get("group") == group:
                    values[field] = _widget(field)
    if values.get("gpu") == "none":
        values["gpu"] = None
    return values


def show_recommendation(answers: Answers, rec) -> None:
    st.subheader("Recommendation")
    st.success(f"**{rec.headline}**")
    cols = st.columns(3)
    cols[0].metric("Primary approach", SHORT[rec.primary])
    cols[1].metric("Combine with", ", ".join(SHORT[c] for c in rec.combine_with) or "-")
    cols[2].metric("Recipe", (rec.recipe or "-").upper())
    show_links(rec)  # to the pages that size, build, train and compare it
    for w in rec.warnings:
        st.warning(w)
    st.markdown("**Why**")
    show_reasons([r for r in rec.reasons if r.supports])
    against = [r for r in rec.reasons if not r.supports]
    if against:
        with st.expander(f"Also weighed ({len(against)})"):
            show_reasons(against)
    st.markdown("**Scores** (highest wins)")
    st.bar_chart({"score": {APPROACH_LABELS[k]: v for k, v in rec.scores.items()}},
                 horizontal=True, height=200)
    if rec.what_would_change_it:
        st.markdown("**What would change it**")
        st.markdown("\n".join(f"- {c.text}" for c in rec.what_would_change_it))
    show_estimates(rec)
    st.markdown("**Next steps**")
    for i, s in enumerate(rec.next_steps, 1):
        st.markdown(f"{i}. {s.title}" + (f" {s.detail}" if s.detail else ""))
        if s.command:
            st.code(s.command, language="bash")
    show_downloads(answers, rec)


def show_reasons(reasons) -> None:
    for r in reasons:
        note = f"  \n  *Correction of the source:* {r.correction}" if r.correction else ""
        st.markdown(f"- {r.text}  \n  <small>answers: `{'`, `'.join(r.answers)}` · source: "
                    f"`{r.source}` — “{r.claim}”</small>{note}", unsafe_allow_html=True)


def show_estimates(rec) -> None:
    plan, serving = rec.finetune, rec.serving
    st.markdown("**Estimator figures**")
    if plan is not None:
        st.dataframe(
            [{"method": f.method, "GPUs": f"{f.gpus} x {f.gpu}" if f.gpu else "-",
              "GiB per GPU": round(f.total_gib, 1), "fits": f.fits,
              "hours": None if f.time_hours is None else round(f.time_hours, 2),
              "cost $": None if f.cost_usd is None else round(f.cost_usd, 2)} for f in plan.alternatives],
            hide_index=True,
        )
        fit = plan.fit
        st.caption(plan_summary(plan))
        st.caption(f"Memory breakdown for {fit.method} (GiB per GPU)")
        st.bar_chart({k: [v] for k, v in fit.memory_gib.items() if k != "total" and v > 0},
                     horizontal=True, height=160)
        if plan.gpu_table:
            st.caption(f"Which GPUs fit {plan.method} (cheapest first)")
            st.dataframe([r.model_dump() for r in plan.gpu_table], hide_index=True)
    if serving is not None:
        rented = " (the cheapest GPU that fits)" if serving.rented else ""
        st.caption(f"Serving (inference) on {serving.gpus} x {serving.gpu or '-'}{rented}: "
                   f"{serving.total_gib:.1f} GiB per GPU, fits: {'yes' if serving.fits else 'no'}")


def _report_maker(answers: Answers, rec, fmt: str):
    """The report is rendered only when its button is clicked (PDF/HTML draw a chart)."""
    return lambda: render_report(answers, rec, fmt)


def show_downloads(answers: Answers, rec) -> None:
    st.markdown("**Download the report**")
    cols = st.columns(4)
    for col, fmt in zip(cols, ("md", "html", "pdf", "json")):
        col.download_button(  # short labels: four buttons share the narrow right column
            fmt.upper(), icon=":material/download:", data=_report_maker(answers, rec, fmt),
            file_name=f"ftadvisor-report.{fmt}", mime=MEDIA_TYPES[fmt], key=f"{P}{fmt}_download",
            on_click="ignore", use_container_width=True,
        )


st.title("Prompt, RAG or fine-tune?")
st.caption("Answer in your words; the recommendation updates as you go and shows its reasons.")
left, right = st.columns([1, 1.25], gap="large")
with left:
    values = questionnaire()
with right:
    try:
        answers = Answers.model_validate(values)
    except (ValidationError, ValueError) as exc:
        show_errors(exc)
        st.stop()
    rec = recommend(answers)
    st.session_state["answers"] = answers
    st.session_state["recommendation"] = rec
    show_recommendation(answers, rec)
