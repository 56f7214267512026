"""A finished comparison on the Compare page: "which arm should we ship?" at a glance. The page shows
the comparison's one view (compare.view, the document metrics.md and the report render too: the
evidence first, the picture, the metric table, ...), then what only the page offers: the answers
side by side and the downloads."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from compare.results import load_results, read_side_by_side
from compare.spec import ARM_TITLES
from compare.view import comparison_document, comparison_markdown
from ui.document_view import show_document
from ui.errors import show_errors


def show_results(run_dir: Path) -> None:
    import pandas as pd

    try:
        results = load_results(run_dir)
    except ValueError as exc:
        show_errors(exc)
        return
    show_document(comparison_document(results), "cmp")
    st.subheader("Answers side by side")
    side = pd.DataFrame(read_side_by_side(run_dir)).rename(columns=ARM_TITLES)
    st.dataframe(side, width="stretch", hide_index=True)
    d1, d2 = st.columns(2)
    d1.download_button("results.json", results.model_dump_json(indent=2), "results.json", "application/json",
                       key="cmp_results_download")
    d2.download_button("metrics.md", comparison_markdown(results), "metrics.md", "text/markdown",
                       key="cmp_metrics_download")
