"""The report in md, html (one self-contained file), json and a real PDF, plus the comparison
(its section in every format: tests/advisor/test_comparison.py)."""
import io
import json
import re
from pathlib import Path

import pytest

from advisor import AdvisorError, recommend, render_report
from tests.advisor.comparison_run import comparison_results

COMPARISON = comparison_results(Path("runs/20250101-120000-compare"))


@pytest.fixture(scope="module")
def hybrid(request):
    from advisor import Answers

    a = Answers(needs=["tone_style", "fresh_facts"], knowledge_update="daily", labeled_examples=5000,
                prompting_result="inconsistent", model="llama-3.1-8b", gpu="A100 80GB",
                use_case="Support assistant in our voice")
    return a, recommend(a)


def test_markdown_has_every_section(hybrid):
    a, rec = hybrid
    md = render_report(a, rec, "md", comparison=COMPARISON).decode()
    for heading in ("## Recommendation", "## Why", "## Also weighed", "## What would change it",
                    "## Estimated memory, time and cost", "## Next steps", "## Comparison results",
                    "## Your answers", "## Assumptions and sources"):
        assert heading in md
    assert rec.headline in md
    assert "ftadvisor tune --model meta-llama/Llama-3.1-8B --data examples.jsonl --method lora" in md
    assert "ftadvisor rag index --docs ./docs --store ./rag-store" in md
    assert "| Fine-tuned + RAG (hybrid) | 1.000 | 1.000 | 1.000 | 1.0 | 1.000 |" in md
    assert "Fine-Tuning (AI-search glossary, Techniques & Methods)" in md and "weights" in md


SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt|seeds/")


@pytest.mark.parametrize("fmt", ["md", "html", "json", "pdf"])
def test_every_format_shows_readable_sources_and_no_seed_file(hybrid, fmt):
    a, rec = hybrid
    data = render_report(a, rec, fmt)
    if fmt == "pdf":
        from pypdf import PdfReader

        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
        text = " ".join(text.split())  # the PDF wraps lines
    else:
        text = data.decode()
    if fmt == "html":
        from html import unescape

        text = unescape(text)
    for s in rec.sources:
        assert s.title in text
    assert not SEED_FILE.search(text)


def test_html_is_one_self_contained_file_with_an_inline_svg_chart(hybrid):
    a, rec = hybrid
    html = render_report(a, rec, "html").decode()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert "<svg" in html and "GiB per GPU" in html
    # Nothing to fetch: no external scripts, stylesheets or images.
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "<script" not in html and "<link" not in html
    assert "LoRA fine-tuning" in html


def test_json_round_trips(hybrid):
    a, rec = hybrid
    data = json.loads(render_report(a, rec, "json", comparison=COMPARISON))
    assert data["recommendation"]["primary"] == "lora"
    assert data["recommendation"]["combine_with"] == ["rag"]
    assert data["answers"]["gpu"] == "A100 80GB"
    assert data["comparison"]["arms"]["rag"]["token_f1"] == 0.625
    assert data["recommendation"]["finetune"]["fit"]["memory_gib"]["total"] > 0


def test_pdf_is_real_and_its_text_layer_has_the_recommendation(hybrid):
    from pypdf import PdfReader

    a, rec = hybrid
    pdf = render_report(a, rec, "pdf", comparison=COMPARISON)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "LoRA fine-tuning" in text and "RAG for the facts" in text
    assert "Next steps" in text and "ftadvisor tune" in text
    assert "Comparison results" in text
    assert any("/XObject" in page["/Resources"] for page in reader.pages)  # the chart image


def test_report_for_rag_shows_serving_figures():
    from advisor import Answers

    a = Answers(needs=["private_knowledge"], citations_required=True, gpu="L40S")
    rec = recommend(a)
    md = render_report(a, rec, "md").decode()
    assert rec.primary == "rag" and "Serving" in md and "ftadvisor rag ask" in md


def test_unknown_format(hybrid):
    a, rec = hybrid
    with pytest.raises(AdvisorError, match="--format"):
        render_report(a, rec, "docx")
