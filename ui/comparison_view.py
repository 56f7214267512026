"""A finished comparison on the Compare page: "which arm should we ship?" at a glance. The evidence
paragraph first, the one picture of quality against cost per 1k queries (the report's picture),
the metric table with the arms in their logical order and titles, the answers side by side, then
training and cost figures. Everything comes from `compare.results` and `compare.chart`."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from compare.chart import quality_cost_chart
from compare.results import Results, load_results, metric_rows, of_epochs, read_side_by_side
from compare.spec import ARM_TITLES
from ui.errors import show_errors


def show_results(run_dir: Path) -> None:
    import pandas as pd

    try:
        results = load_results(run_dir)
    except ValueError as exc:
        show_errors(exc)
        return
    st.subheader("What the evidence shows")
    if results.evidence:
        st.info(results.evidence.paragraph)
    st.image(quality_cost_chart(results, "png"), caption="Each arm: its score against its serving cost "
             "(up and to the left is better; the star is the best arm).")
    st.subheader("Metrics")
    st.caption(f"{results.eval_examples} held-out questions, trained on {results.train_examples}; the same "
               "generation settings for every arm. Latency is measured on this machine; cost is estimated at "
               f"{results.costs.gpu if results.costs else 'the chosen GPU'}.")
    table = pd.DataFrame(metric_rows(results))
    table["arm"] = table["arm"].map(lambda a: ARM_TITLES.get(a, a))
    st.dataframe(table.set_index("arm").dropna(axis=1, how="all"), width="stretch")
    st.caption("Correct: the answer states the reference (or one it lists). Format match: how closely the answers' "
               "length takes the references' (1 = as long), apart from whether they are right.")
    if results.hit_definition:
        st.caption(f"hit@k: {results.hit_definition}")
    _retrieval_splits(results)
    _how_sure(results)
    for name in results.scorers:
        counts = ", ".join(f"{ARM_TITLES.get(a, a)}: {m.scores[name].errors} errors, {m.scores[name].timeouts} "
                           f"timeouts" for a, m in results.arms.items() if name in m.scores)
        st.caption(f"{name}: {counts} (answers.jsonl keeps each error)")
    st.subheader("Answers side by side")
    side = pd.DataFrame(read_side_by_side(run_dir)).rename(columns=ARM_TITLES)
    st.dataframe(side, width="stretch", hide_index=True)
    _training_and_costs(results)
    d1, d2 = st.columns(2)
    d1.download_button("results.json", results.model_dump_json(indent=2), "results.json", "application/json",
                       key="cmp_results_download")
    d2.download_button("metrics.md", results.to_markdown(), "metrics.md", "text/markdown", key="cmp_metrics_download")


def _retrieval_splits(results: Results) -> None:
    """Each retrieval arm's 2x2: did the retriever find the passage, was the answer right."""
    import pandas as pd

    split = {a: m.retrieval_split for a, m in results.arms.items() if m.retrieval_split}
    if not split:
        return
    st.markdown("**Retrieval hits against right answers**: fix the retriever, or the model?")
    for col, (arm, s) in zip(st.columns(len(split)), split.items()):
        col.caption(ARM_TITLES.get(arm, arm))
        col.dataframe(pd.DataFrame({"answer right": [s.hit_correct, s.miss_correct],
                                    "answer wrong": [s.hit_wrong, s.miss_wrong]},
                                   index=["passage found", "passage missed"]), key=f"cmp_split_{arm}")


def _how_sure(results: Results) -> None:
    """The best arm against each other arm: paired difference, interval, McNemar, questions needed."""
    import pandas as pd

    ev = results.evidence
    if ev is None or not ev.versus_best:
        return
    st.markdown(f"**How sure**: {ARM_TITLES.get(ev.best_arm, ev.best_arm)} against each arm on {ev.metric_label}, "
                "paired over the same questions (95% bootstrap interval of the difference).")
    st.dataframe(pd.DataFrame([
        {"arm": ARM_TITLES.get(a, a), "difference": c.difference, "interval from": c.ci_low, "interval to": c.ci_high,
         "McNemar p": c.mcnemar_p, "beyond the noise": c.clear, "questions to separate": c.questions_needed}
        for a, c in ev.versus_best.items()]).dropna(axis=1, how="all"), hide_index=True, key="cmp_how_sure")


def _training_and_costs(results: Results) -> None:
    import pandas as pd

    st.subheader("Memory, time and cost")
    gpu = results.costs.gpu if results.costs else "the GPU"
    for name, t in results.trainings.items():
        arms = ", ".join(ARM_TITLES.get(a, a) for a in t.arms)
        st.markdown(f"**Adapter of {arms}** ({t.method} on {t.prompts} prompts, {t.steps} steps{of_epochs(t)})")
        st.dataframe(pd.DataFrame([
            {"figure": "peak memory here (GiB)", "measured": t.measured_peak_gib, "estimated": t.estimated_peak_gib},
            {"figure": f"peak memory at {gpu} (GiB)", "measured": None, "estimated": t.estimated_peak_gib_at_gpu},
            {"figure": "training time (s)", "measured": t.seconds,
             "estimated": t.estimated_hours_at_gpu * 3600 if t.estimated_hours_at_gpu is not None else None},
            {"figure": f"training cost at {gpu} ($)", "measured": t.cost_usd, "estimated": t.estimated_cost_usd},
        ]), hide_index=True, key=f"cmp_training_{name}")
    c = results.costs
    if c is not None and c.usd_per_hour is not None:
        st.dataframe(pd.DataFrame([{"arm": ARM_TITLES.get(a, a), "$ / 1k queries": x.per_1k_queries_usd,
                                    "fixed $": x.fixed_usd, "prompt tokens": x.prompt_tokens,
                                    "answer tokens": x.output_tokens} for a, x in c.arms.items()]), hide_index=True)
        st.caption(f"{c.gpu} at ${c.usd_per_hour:.2f}/h. {c.basis}")
        for b in c.break_even:
            st.markdown(f"- {b.note}")
    elif c is not None:
        st.caption(f"No costs: {c.price_source}")
    for note in results.notes:
        st.caption(note)
