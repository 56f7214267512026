"""The one view of a finished comparison (compare.view): its sections and their order, the metric
table, the formats of its figures; and the guard against a second drawing: metrics.md, the
advisor's HTML report and the Compare page show the same sections, the same tables with the same
headers, rows in the same order and the same printed figures."""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from compare.costs import BreakEven
from compare.results import CostFigures, Results, RetrievalSplit, TrainingFigures, load_results
from compare.spec import ARM_TITLES, ARMS
from compare.view import comparison_document, comparison_markdown, comparison_sections, metric_table
from tests.advisor.comparison_run import comparison_results, write_comparison_run

TITLES = [ARM_TITLES[a] for a in ("base", "rag", "finetuned", "finetuned_rag")]
APP = Path(__file__).resolve().parents[2] / "app.py"


def _with_everything(results: Results) -> Results:
    """The run with every part a view shows: the retrieval arms' 2x2 and one adapter's training."""
    results.arms["rag"].retrieval_split = RetrievalSplit(hit_correct=5, hit_wrong=3, miss_correct=0, miss_wrong=2)
    results.arms["finetuned_rag"].retrieval_split = RetrievalSplit(hit_correct=8, hit_wrong=0, miss_correct=2,
                                                                   miss_wrong=0)
    results.trainings["train_rag"] = TrainingFigures(
        method="lora", prompts="retrieval", arms=["finetuned_rag"], steps=20, epoch_steps=84, train_examples=40,
        seconds=273.1, measured_peak_gib=2.0944, measured_kind="process peak RSS", estimated_peak_gib=1.195,
        estimate_error_pct=-42.9, estimated_peak_gib_at_gpu=1.213, estimated_hours_at_gpu=0.5, cost_usd=None,
        estimated_cost_usd=1.0)
    return results


@pytest.fixture
def results(tmp_path) -> Results:
    return comparison_results(tmp_path / "20250101-120000-compare")


def _titles(results: Results) -> list[str]:
    return [s.title for s in comparison_sections(results)]


def test_sections_come_in_one_order_each_only_with_something_to_show(results):
    assert _titles(results) == ["What the evidence shows", "Metrics", "How sure", "Task-aware scorers",
                                "Cost at A100 80GB ($2.00/h)", "Notes"]
    assert _titles(_with_everything(results)) == [
        "What the evidence shows", "Metrics", "Retrieval hits against right answers", "How sure", "Task-aware scorers",
        "Training: the adapter of Fine-tuned + RAG (hybrid)", "Cost at A100 80GB ($2.00/h)", "Notes"]
    results.evidence, results.costs, results.scorers, results.notes = None, None, [], []
    assert _titles(results) == ["What the evidence shows", "Metrics", "Retrieval hits against right answers",
                                "Training: the adapter of Fine-tuned + RAG (hybrid)"]
    assert [s.level for s in comparison_sections(results, level=3)] == [3] * 4  # inside the advisor's report


def test_metric_table_has_every_arm_in_order_and_the_scorer_column(results):
    table = metric_table(results)
    assert table.labels[:5] == ["arm", "execution accuracy", "correct", "format match", "length x ref"]
    assert next(iter(results.arms)) == "finetuned_rag"  # results.arms in another order: the table keeps ARMS'
    assert [r[0] for r in table.rows] == TITLES
    assert [r[1] for r in table.rows] == [0.0, 0.5, 0.6, 1.0]  # typed: the page sorts numbers
    assert [r[1] for r in table.text_rows()] == ["0.000", "0.500", "0.600", "1.000"]
    assert "latency p50 (s)" not in table.labels  # what an answer takes has its own table, the cost its own too


def test_a_figure_no_arm_has_is_left_out(results):
    md = comparison_markdown(results)
    assert "perplexity" not in md  # no adapter trained: no forgetting measured
    assert "| arm | per 1k queries | one-off (index, training) |\n" in md  # no token counts in these costs
    assert "| Base model (zero-shot) | $0.11 | $0 |" in md  # 0.2 s a query at $2/h; dollars as the paragraph's
    assert "| Fine-tuned | 0.600 | 0.600 | 0.657 | 1.0 | 0.600 | 0.700 | 0.700 | - |" in md  # hit@k: rag arms only


def test_metrics_md_keeps_its_header_line_and_names_arms_by_title(results):
    results.scorers = []
    md = comparison_markdown(results)
    assert md.startswith("# Comparison: SmolLM2-135M-Instruct\n\n## What the evidence shows\n\n"
                         + results.evidence.paragraph + "\n")
    assert "| arm | correct | format match | length x ref | exact match | token F1 | ROUGE-L |" in md
    assert all(f"| {t} |" in md for t in TITLES) and "| base |" not in md
    # Markdown embeds no picture: it says where the picture is.
    assert "_execution accuracy against serving cost per 1k queries: the picture is in the HTML and PDF reports " \
           "and on the Compare page (run 20250101-120000-compare)._" in md


def test_training_and_retrieval_read_as_a_person_would(results):
    md = comparison_markdown(_with_everything(results))
    assert "lora on retrieval prompts, 20 steps of the 84 its epochs take on 40 examples." in md
    assert "| peak memory, this machine (GiB) | 2.09 (process peak RSS) | 1.20 (-43%) |" in md
    assert "| training time (s) | 273.1 (this machine) | 1,800.0 (A100 80GB) |" in md
    assert "| training cost at A100 80GB | - | $1.00 |" in md
    assert "| arm | found, right | found, wrong | missed, right | missed, wrong |" in md
    assert "| Fine-tuned + RAG (hybrid) | 8 | 0 | 2 | 0 |" in md


def test_how_sure_names_the_best_arm_and_each_other_arm_in_order(results):
    md = comparison_markdown(results)
    assert "Fine-tuned + RAG (hybrid) against each arm on execution accuracy, paired over the same questions" in md
    # 5 wins, 0 losses of 10: the bootstrap interval is above 0 but McNemar's p = 2/2^5 is not below 0.05
    assert "| Base + RAG | +0.500 | +0.200 to +0.800 | 0.0625 | no | 14 |" in md
    how_sure = md[md.index("## How sure"):md.index("## Task-aware")]
    assert [t for t in TITLES if f"| {t} |" in how_sure] == TITLES[:3]


def test_unpriced_costs_say_why(results):
    results.costs = CostFigures(gpu="B200", usd_per_hour=None, price_source="no price for B200 in the catalog",
                                basis="-", break_even=[BreakEven(cheaper_after="rag", than="base", queries=None,
                                                                 note="same cost at every volume")])
    md = comparison_markdown(results)
    assert "## Cost at B200\n\nNo serving cost: no price for B200 in the catalog.\n" in md


# -- One view, three drawings ---------------------------------------------------------------


def _markdown_tables(md: str) -> list[tuple[list[str], list[list[str]]]]:
    tables = []
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.MULTILINE):
        header, _rule, *rows = [line[2:-2].split(" | ") for line in block.splitlines()]
        tables.append((header, rows))
    return tables


def _html_tables(html: str) -> list[tuple[list[str], list[list[str]]]]:
    tables = []
    for t in re.findall(r"<table>(.*?)</table>", html, flags=re.DOTALL):
        header = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", t)]
        rows = [[unescape(c) for c in re.findall(r"<td>(.*?)</td>", r)] for r in re.findall(r"<tr>(.*?)</tr>", t)]
        tables.append((header, [r for r in rows if r]))
    return tables


def _page(run_dir: Path):
    """The Compare page (the real app) showing the finished run."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/compare_page.py")
    at.session_state["cmp_run"] = str(run_dir)
    at.run()
    assert not at.exception
    return at


def _page_tables(at) -> list[tuple[list[str], list[list[str]]]]:
    """Each table of the view as the page shows it: its index and columns, each cell as printed."""
    from streamlit import dataframe_util

    tables = []
    for frame in at.dataframe:
        shown = frame.proto.arrow_data.styler.display_values  # the view's tables print through their formats
        if shown:
            assert frame.proto.placeholder == "-"  # the browser's text for a missing figure, as md's
            values = dataframe_util.convert_arrow_bytes_to_pandas_df(shown)
            header = [frame.value.index.name, *frame.value.columns]
            rows = zip(frame.value.index, values.values.tolist(), strict=True)
            tables.append((header, [[arm, *row] for arm, row in rows]))
    return tables


def test_metrics_md_the_html_report_and_the_page_show_the_same_view():
    from advisor import Answers, recommend, render_report
    from common.settings import load_settings

    run_dir = write_comparison_run(load_settings().runs_dir, "20250101-120000-compare")
    (run_dir / "results.json").write_text(_with_everything(load_results(run_dir)).model_dump_json())
    results = load_results(run_dir)
    md = comparison_markdown(results)
    answers = Answers()
    report = render_report(answers, recommend(answers), "html", comparison=run_dir).decode()
    html = report[report.index("<h2>Comparison results</h2>"):report.index("<h2>Your answers</h2>")]
    at = _page(run_dir)

    sections = [s.title for s in comparison_document(results).sections]
    assert re.findall(r"^## (.*)$", md, flags=re.MULTILINE) == sections
    assert [unescape(h) for h in re.findall(r"<h3>(.*?)</h3>", html)] == sections
    shown = [s.value.replace("\\", "") for s in at.subheader]  # the page escapes a title for Markdown
    assert shown[shown.index(f"Run {run_dir.name}") + 1:shown.index("Answers side by side")] == sections

    tables = _markdown_tables(md)
    assert [header[0] for header, _ in tables] == ["arm"] * 5 + ["figure", "arm"]
    assert tables[0][0][:3] == ["arm", "execution accuracy", "correct"]
    assert [row[0] for row in tables[0][1]] == [ARM_TITLES[a] for a in ARMS] and tables[0][1][-1][1] == "1.000"
    assert _html_tables(html) == tables
    assert _page_tables(at) == tables
    assert unescape(re.search(r'<p class="evidence">(.*?)</p>', html).group(1)) == results.evidence.paragraph
    assert at.info[-1].value.replace("\\", "") == results.evidence.paragraph  # the page escapes it for Markdown
