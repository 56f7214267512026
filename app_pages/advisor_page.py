"""The Advisor page (landing page): the questionnaire, grouped, recomputed on every change, with
the recommendation, its reasons and sources, what would change it, the estimator's figures,
next steps and the report downloads, with a comparison run in the report (the one launched from
these answers by default). Widgets come from `Answers.model_fields` through `ui.forms.field_widget`;
all logic is in `advisor`."""
from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from advisor import AdvisorError, Answers, recommend, render_report
from advisor.answers import GROUPS, NEED_LABELS
from advisor.catalog import gpu_names
from advisor.comparison import comparison_runs, load_comparison
from advisor.document import plan_summary, reason_line
from advisor.report import FORMATS, MEDIA_TYPES
from advisor.scenarios import load_scenarios
from common.settings import load_settings
from common.vocabulary import APPROACH_LABELS, APPROACH_SHORT_LABELS
from ui.errors import show_errors
from ui.forms import NONE_LABEL, field_widget
from ui.handoff import offer
from ui.nav import show_links

P = "adv_"  # widget key prefix
DEFAULTS = Answers.model_construct().model_dump()  # defaults without catalog lookups
# How a field is drawn beyond what its type says.
_WIDGET_OPTIONS = {
    "use_case": {"multiline": True},
    "needs": {"format_func": NEED_LABELS.get},
    "budget_usd": {"step": 100.0},
}


def _apply_example() -> None:
    """Fill every widget from the chosen scenario (runs before the widgets are drawn)."""
    name = st.session_state.get(f"{P}example")
    scenario = next((s for s in load_scenarios() if s.name == name), None)
    if scenario is None:
        return
    for field, value in scenario.answers.model_dump().items():
        st.session_state[P + field] = _to_widget(field, value)


def _to_widget(field: str, value):
    """A value as its widget holds it: no GPU is the select box's none, a budget a float."""
    if field == "gpu":
        return value or NONE_LABEL
    if field == "budget_usd":
        return None if value is None else float(value)
    return value


def _widget(field: str):
    info = Answers.model_fields[field]
    prefill = st.session_state.get("answers")
    default = getattr(prefill, field) if isinstance(prefill, Answers) else DEFAULTS[field]
    return field_widget(field, info, P + field, default, gpu_names() if field == "gpu" else None,
                        help_text=(info.json_schema_extra or {}).get("help"), **_WIDGET_OPTIONS.get(field, {}))


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
    return values


def show_recommendation(answers: Answers, rec) -> None:
    st.subheader("Recommendation")
    st.success(f"**{rec.headline}**")
    cols = st.columns(3)
    cols[0].metric("Primary approach", APPROACH_SHORT_LABELS[rec.primary])
    cols[1].metric("Combine with", ", ".join(APPROACH_SHORT_LABELS[c] for c in rec.combine_with) or "-")
    cols[2].metric("Recipe", (rec.recipe or "-").upper() + (" then DPO" if rec.then_dpo else ""))
    show_links(rec)  # to the pages that size, build, train and compare it
    for w in rec.warnings:
        st.warning(w)
    st.markdown("**Why**")
    show_reasons([r for r in rec.reasons if r.supports])
    against = [r for r in rec.reasons if not r.supports]
    if against:
        with st.expander(f"Also weighed ({len(against)})"):
            show_reasons(against)
    st.markdown("**Scores** (highest wins; a ruled-out approach cannot)")
    st.bar_chart({"score": {APPROACH_LABELS[k] + (" (ruled out)" if k in rec.ruled_out else ""): v
                            for k, v in rec.scores.items()}}, horizontal=True, height=200)
    if rec.what_would_change_it:
        st.markdown("**What would change it**")
        st.markdown("\n".join(f"- {c.text}" for c in rec.what_would_change_it))
    show_estimates(rec)
    st.markdown("**Next steps**")
    for i, s in enumerate(rec.next_steps, 1):
        st.markdown(f"{i}. {s.title}" + (f" {s.detail}" if s.detail else ""))
        if s.command:
            st.code(s.command, language="bash")
    show_sources(rec)
    show_downloads(answers, rec)


def show_reasons(reasons) -> None:
    st.markdown("\n".join(f"- {reason_line(r)}" for r in reasons))


def show_sources(rec) -> None:
    with st.expander(f"Sources ({len(rec.sources)})"):
        st.markdown("\n".join(
            f"- **{s.title}** ({s.kind}; {s.where})" + (f" <{s.url}>" if s.url else "") + "\n"
            + "\n".join(f"  - {c}" for c in s.claims) for s in rec.sources))


def show_estimates(rec) -> None:
    plan, serving = rec.finetune, rec.serving
    st.markdown("**Estimator figures**")
    if plan is not None:
        st.dataframe(
            [{"method": f.method, "GPUs": f"{f.gpus} x {f.gpu}" if f.gpu else "-", "sharding": f.sharding,
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


def pick_comparison(answers: Answers):
    """The comparison run the report carries (`compare.results.Results`), or None: offered, the
    newest one launched from these answers; any other completed one can be chosen."""
    key = f"{P}comparison"
    runs = comparison_runs(load_settings().runs_dir, answers)
    labels = {r.run_dir: r.label for r in runs}
    if st.session_state.get(key) not in (None, *labels):
        del st.session_state[key]  # the run chosen before is gone
    offer(st.session_state, {key: next((r.run_dir for r in runs if r.from_answers), None)})
    picked = st.selectbox("Comparison in the report", [None, *labels], key=key,
                          format_func=lambda r: "none" if r is None else labels[r], disabled=not runs,
                          help="A completed comparison run (Compare page): its evidence, the picture of quality "
                          "against cost, the metric table and the costs go into the report's comparison section.")
    if picked is None:
        return None
    try:
        results = load_comparison(picked)
    except AdvisorError as exc:
        show_errors(exc)
        return None
    if results.evidence is not None:
        st.caption(results.evidence.paragraph)
    return results


def _report_maker(answers: Answers, rec, fmt: str, comparison):
    """The report is rendered only when its button is clicked (PDF/HTML draw charts)."""
    return lambda: render_report(answers, rec, fmt, comparison)


def show_downloads(answers: Answers, rec) -> None:
    st.markdown("**Download the report**")
    comparison = pick_comparison(answers)
    cols = st.columns(len(FORMATS))
    for col, fmt in zip(cols, FORMATS, strict=True):
        col.download_button(  # short labels: four buttons share the narrow right column
            fmt.upper(), icon=":material/download:", data=_report_maker(answers, rec, fmt, comparison),
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
