"""The journeys users come for, in a real browser against `streamlit run app.py`:
1. answer the questionnaire and watch the recommendation and its reasons change;
2. export the report (Markdown, HTML, PDF) from the page and check the files;
3. launch the comparison from the Compare page with the tiny offline model (test_compare_journey.py).
Plus: every page loads without a Streamlit exception box, and the advisor's answers travel to
the other pages and survive going back.
"""
from __future__ import annotations

import io
import re

import pytest

from tests.e2e.streamlit_driver import (
    EXCEPTION_BOX, go_to, multiselect_add, multiselect_tags, number_value, open_page, select,
    selected, set_number, text_value,
)

pytestmark = pytest.mark.browser

NEEDS = "What must change"
FRESH = "Answers from knowledge that changes (news, prices, policies)"
TONE = "A consistent voice or persona (tone, style)"
UPDATES = "How often does the knowledge"
EXAMPLES = "How many good input/output"
PAGES = ["Advisor", "Estimator", "Fine-tune", "RAG baseline", "Compare"]


def _headline(page) -> str:
    return page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text().strip()


def _metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    return m.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _reasons(page) -> list[str]:
    """The points under "Why": each names the answers that drove it and its source."""
    return [t.strip() for t in page.locator("li").filter(has_text="source:").all_inner_texts()]


def test_every_page_loads_without_an_exception(app_url, page):
    open_page(page, app_url)
    broken = {}
    for title in PAGES:
        go_to(page, title)
        page.wait_for_selector('[data-testid="stMainBlockContainer"] h1')
        if page.locator(EXCEPTION_BOX).count():
            broken[title] = page.locator(EXCEPTION_BOX).first.inner_text()[:300]
    assert not broken, f"pages showing a Streamlit exception box: {broken}"


def test_recommendation_and_reasons_follow_the_answers(app_url, page, shots_dir):
    open_page(page, app_url)
    multiselect_add(page, NEEDS, FRESH)
    select(page, UPDATES, "daily")
    assert _headline(page).startswith("RAG")
    assert _metric(page, "Primary approach").startswith("RAG")
    rag_reasons = _reasons(page)
    assert any("knowledge_update" in r for r in rag_reasons), rag_reasons

    # The voice matters too, and there are 2,000 checked examples: fine-tune for the voice,
    # keep retrieval for the daily facts (the hybrid).
    multiselect_add(page, NEEDS, TONE)
    set_number(page, EXAMPLES, 2000)
    assert re.search(r"LoRA|QLoRA|Full fine-tuning", _metric(page, "Primary approach"))
    assert _metric(page, "Combine with").startswith("RAG")
    hybrid_reasons = _reasons(page)
    assert hybrid_reasons != rag_reasons
    assert any("labeled_examples" in r for r in hybrid_reasons), hybrid_reasons
    page.screenshot(path=shots_dir / "journey1-advisor.png", animations="disabled")


def test_answers_prefill_other_pages_and_survive_going_back(app_url, page, shots_dir):
    open_page(page, app_url)
    select(page, "Start from an example", "daily facts and tone")
    set_number(page, EXAMPLES, 4321)  # typed by hand after the example
    assert text_value(page, "Which base model") == "llama-3.1-8b"

    go_to(page, "Estimator")
    assert page.locator(".st-key-est_model input").input_value() == "llama-3.1-8b"
    assert page.locator(".st-key-est_gpu input").input_value() == "A100 80GB"
    assert page.locator(".st-key-est_method input").input_value() == "lora"
    page.screenshot(path=shots_dir / "journey-estimator-prefilled.png", animations="disabled")

    go_to(page, "Advisor")
    assert number_value(page, EXAMPLES) == "4321"
    assert set(multiselect_tags(page, NEEDS)) == {TONE, FRESH}
    assert selected(page, UPDATES) == "daily"


def _download(page, fmt: str, folder) -> bytes:
    button = page.locator('[data-testid="stDownloadButton"] button', has_text=f"Download {fmt.upper()}")
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == f".{fmt}"
    return path.read_bytes()


def test_report_downloads_in_three_formats(app_url, page, shots_dir, tmp_path):
    from pypdf import PdfReader

    open_page(page, app_url)
    select(page, "Start from an example", "text to sql internal schema")
    headline = _headline(page)
    assert _metric(page, "Primary approach").startswith("LoRA"), headline

    md = _download(page, "md", tmp_path).decode()
    assert headline in md and "Text-to-SQL over our internal warehouse schema" in md

    html = _download(page, "html", tmp_path).decode()
    assert html.lstrip().lower().startswith("<!doctype html") and headline in html
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]+""", html, re.I)
    external += re.findall(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not external, f"the HTML report loads external resources: {external[:5]}"
    assert "<img" not in html or 'src="data:' in html  # a chart, if any, is inline

    pdf = _download(page, "pdf", tmp_path)
    assert pdf.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert " ".join(headline.split()) in " ".join(text.split()), text[:500]
    page.locator('[data-testid="stDownloadButton"]').first.scroll_into_view_if_needed()
    page.screenshot(path=shots_dir / "journey2-report.png", animations="disabled")
    assert page.locator(EXCEPTION_BOX).count() == 0
