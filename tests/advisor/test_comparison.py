"""The report's comparison section in every format, from a real `compare.results.Results`: the
evidence paragraph first, the quality-against-cost picture, the metric table in the arms' logical
order with the task-aware scorer, the costs per 1k queries (the comparison's one view,
compare.view: tests/compare/test_view.py); and the runs a report can carry."""
import io
import json
import re
from html import unescape

import pytest

from advisor import AdvisorError, Answers, recommend, render_report
from advisor.comparison import comparison_runs, load_comparison
from compare.results import Results
from compare.spec import ARM_TITLES
from tests.advisor.comparison_run import NOTE, comparison_results, write_comparison_run

TITLES = [ARM_TITLES[a] for a in ("base", "rag", "finetuned", "finetuned_rag")]


@pytest.fixture(scope="module")
def advice():
    a = Answers(use_case="Text-to-SQL over our warehouse", needs=["output_format"], labeled_examples=5000,
                prompting_result="inconsistent", model="llama-3.1-8b", gpu="A100 80GB")
    return a, recommend(a)


@pytest.fixture
def results(tmp_path) -> Results:
    return comparison_results(tmp_path / "20250101-120000-compare")


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end)]


def _in_order(text: str, parts: list[str]) -> bool:
    at = [text.find(p) for p in parts]
    return -1 not in at and at == sorted(at)


def test_markdown_section_has_the_paragraph_first_then_the_table_and_the_costs(advice, results):
    md = render_report(*advice, "md", comparison=results).decode()
    section = _section(md, "## Comparison results", "## Your answers")
    first = section.split("\n\n")[2]
    assert section.startswith("## Comparison results\n\n### What the evidence shows\n\n")
    assert first == results.evidence.paragraph
    assert "Fine-tuned + RAG (hybrid) ranks first on execution accuracy (1.00)" in first
    assert "the evidence agrees" in first
    # Markdown embeds no picture: it says where the picture is.
    assert ("_execution accuracy against serving cost per 1k queries: the picture is in the HTML and PDF "
            "reports and on the Compare page (run 20250101-120000-compare)._") in section
    assert "](" not in section and "<img" not in section
    assert ("| arm | execution accuracy | correct | format match | length x ref | exact match | token F1 | ROUGE-L "
            "| hit@k |") in section
    # The arms in their logical order with their titles, though results.arms starts with the hybrid.
    assert next(iter(results.arms)) == "finetuned_rag"
    assert _in_order(section, [f"| {t} |" for t in TITLES])
    # correct 5/10; format: 5 answers as long as the reference, 5 "SELECT *" at 1/7 of its 7 tokens
    # (median length ratio 0.6: between 1/7 and 1)
    assert "| Base + RAG | 0.500 | 0.500 | 0.571 | 0.6 | 0.500 | 0.625 | 0.625 | 0.800 |" in section
    # 5 wins, 0 losses of 10: the bootstrap interval is above 0 but McNemar's p = 2/2^5 is not below 0.05
    assert ("ahead of Base + RAG by 0.50 (95% interval +0.20 to +0.80, McNemar p = 0.062; within the noise: "
            "about 14 questions would separate them)") in first
    assert "| Fine-tuned | 0.600 |" in section and "| 0.700 | - |" in section  # no retrieval: no hit@k
    assert "| Base model (zero-shot) | 1 | 0 | 0 |" in section  # one error of the scorer
    # Costs per 1k queries at the run's GPU: 0.5 s a query at $2/h = $0.28 per 1k; one-off 36 s + 1 h.
    assert "### Cost at A100 80GB ($2.00/h)" in section
    assert "| Fine-tuned + RAG (hybrid) | $0.28 | $2.02 |" in section
    assert "- Fine-tuned becomes cheaper than Base + RAG after 11,880 queries" in section
    assert NOTE in section


def test_html_section_has_the_paragraph_an_inline_svg_picture_and_the_table(advice, results):
    html = render_report(*advice, "html", comparison=results).decode()
    section = _section(html, "<h2>Comparison results</h2>", "<h2>Your answers</h2>")
    assert unescape(section).index(results.evidence.paragraph) < section.index("<svg")
    svg = section[section.index("<svg"):section.index("</svg>")]
    # The picture: one point per arm, labelled with its title, on cost per 1k queries.
    assert "execution accuracy against serving cost (10 questions)" in svg
    assert all(t in unescape(svg) for t in TITLES) and "$ per 1k queries at A100 80GB" in svg
    cells = re.findall(r"<tr><td>([^<]*)</td>", unescape(section))
    assert cells[:4] == TITLES
    assert "<th>execution accuracy</th>" in section and "$0.28" in section
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)  # still one self-contained file


def test_pdf_section_has_the_paragraph_the_picture_and_the_table(advice, results):
    from pypdf import PdfReader

    pdf = render_report(*advice, "pdf", comparison=results)
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(" ".join(p.extract_text() for p in pages).split())
    section = _section(text, "Comparison results", "Your answers")
    assert section.startswith("Comparison results What the evidence shows " + results.evidence.paragraph)
    assert "arm execution accuracy correct format match length x ref exact match token F1" in section
    assert _in_order(section, ["Base model (zero-shot) 0.000", "Base + RAG 0.500", "Fine-tuned 0.600",
                               "Fine-tuned + RAG (hybrid) 1.000"])
    assert "Cost at A100 80GB" in section and "Fine-tuned + RAG (hybrid) $0.28 $2.02" in section
    # The memory chart and the quality-against-cost picture: two images.
    images = [name for p in pages for name in p.images]
    assert len(images) == 2
    without = PdfReader(io.BytesIO(render_report(*advice, "pdf"))).pages
    assert len([name for p in without for name in p.images]) == 1


def test_json_carries_the_evidence_first_and_round_trips(advice, results):
    data = json.loads(render_report(*advice, "json", comparison=results))["comparison"]
    assert next(iter(data)) == "evidence" and data["evidence"]["paragraph"] == results.evidence.paragraph
    assert data["evidence"]["verdict"] == "agrees" and data["evidence"]["metric"] == "sql-exec"
    assert list(data["arms"]) == ["base", "rag", "finetuned", "finetuned_rag"]
    assert data["arms"]["rag"]["scores"]["sql-exec"]["mean"] == 0.5
    assert data["costs"]["arms"]["finetuned_rag"]["per_1k_queries_usd"] == pytest.approx(0.2778, abs=1e-4)
    assert Results.model_validate(data).evidence == results.evidence


def test_results_without_evidence_have_the_table_and_a_picture_of_token_f1(advice, tmp_path):
    """A run from before the evidence paragraph: what ran first, the picture ranks by token F1."""
    results = comparison_results(tmp_path / "old", arms=("base", "rag"), evidence=False)
    md = render_report(*advice, "md", comparison=results).decode()
    section = _section(md, "## Comparison results", "## Your answers")
    assert section.split("\n\n")[2].startswith("SmolLM2-135M-Instruct: 10 held-out questions")
    assert "_token F1 against serving cost per 1k queries: the picture is in" in section
    assert "| Base + RAG | 0.500 |" in section and "How sure" not in section
    html = render_report(*advice, "html", comparison=results).decode()
    assert html.count("<svg") == 2  # the memory chart and the picture


def test_without_a_comparison_there_is_no_section(advice):
    for fmt in ("md", "html"):
        assert "Comparison results" not in render_report(*advice, fmt).decode()
    assert json.loads(render_report(*advice, "json"))["comparison"] is None


def test_load_comparison_from_a_folder_a_file_or_a_dict(results, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(results.model_dump_json())
    assert load_comparison(run) == results == load_comparison(str(run / "results.json"))
    assert load_comparison(results.model_dump(mode="json")) == results
    assert load_comparison(results) is results and load_comparison(None) is None


@pytest.mark.parametrize("given, message", [
    ("missing", r"^--comparison: no comparison results at .*nowhere \(has the run finished\?\)$"),
    ("bad-json", r"^--comparison: .*results\.json: not valid JSON"),
    ({"arms": {"rag": {"token_f1": 0.4}}}, r"^--comparison: not a comparison's results: run_dir: Field required"),
    (42, r"^--comparison: expected a comparison run folder, its results.json or its Results, got int$"),
])
def test_load_comparison_errors_are_one_line(tmp_path, given, message):
    if given == "bad-json":
        (tmp_path / "results.json").write_text("{oops")
        given = tmp_path
    elif given == "missing":
        given = tmp_path / "nowhere"
    with pytest.raises(AdvisorError, match=message) as err:
        load_comparison(given)
    assert "\n" not in str(err.value)


def test_comparison_runs_offer_the_one_from_these_answers_first(tmp_path):
    answers, other = Answers(labeled_examples=100), Answers(labeled_examples=200)
    runs = tmp_path / "runs"
    write_comparison_run(runs, "20250101-090000-compare", created_at=1.0)
    mine = write_comparison_run(runs, "20250101-100000-compare", answers=answers, created_at=2.0)
    write_comparison_run(runs, "20250101-110000-compare", answers=other, created_at=3.0)
    write_comparison_run(runs, "20250101-120000-compare", answers=answers, created_at=4.0, state="failed")
    found = comparison_runs(runs, answers)
    assert [r.run_dir.rsplit("/", 1)[-1] for r in found] == [
        "20250101-100000-compare", "20250101-110000-compare", "20250101-090000-compare"]
    assert found[0].from_answers and found[0].run_dir == str(mine)
    assert found[0].label == "20250101-100000-compare (SmolLM2-135M-Instruct), from these answers"
    assert not any(r.from_answers for r in comparison_runs(runs, Answers(labeled_examples=300)))
    assert comparison_runs(tmp_path / "none", answers) == []
