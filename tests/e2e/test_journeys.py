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
from playwright.sync_api import expect

from tests.e2e.streamlit_driver import (
    EXCEPTION_BOX,
    go_to,
    multiselect_add,
    multiselect_tags,
    number_value,
    open_page,
    screenshot,
    select,
    set_number,
    text_value,
)

pytestmark = pytest.mark.browser

NEEDS = "What must change"
FRESH = "Answers from knowledge that changes (news, prices, policies)"
TONE = "A consistent voice or persona (tone, style)"
UPDATES = "How often does the knowledge"
EXAMPLES = "How many good input/output"
PAGES = ["Advisor", "Estimator", "Fine-tune", "RAG baseline", "Compare"]


def _headline(page):
    return page.locator('[data-testid="stAlertContentSuccess"]').first


def _metric(page, label: str):
    m = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True))
    return m.locator('[data-testid="stMetricValue"]')


def _reasons(page):
    """The points under "Why": each names the answers that drove it and its source."""
    return page.locator("li").filter(has_text="source:")


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
    expect(_headline(page)).to_have_text(re.compile(r"^RAG"))
    expect(_metric(page, "Primary approach")).to_have_text(re.compile(r"^RAG"))
    expect(_reasons(page).filter(has_text="knowledge_update")).not_to_have_count(0)
    rag_reasons = _reasons(page).all_inner_texts()

    # The voice matters too, and there are 2,000 checked examples: fine-tune for the voice,
    # keep retrieval for the daily facts (the hybrid).
    multiselect_add(page, NEEDS, TONE)
    set_number(page, EXAMPLES, 2000)
    expect(_metric(page, "Primary approach")).to_have_text(re.compile(r"LoRA|QLoRA|Full fine-tuning"))
    expect(_metric(page, "Combine with")).to_have_text(re.compile(r"^RAG"))
    expect(_reasons(page).filter(has_text="labeled_examples")).not_to_have_count(0)
    assert _reasons(page).all_inner_texts() != rag_reasons
    screenshot(page, shots_dir / "journey1-advisor.png")


def test_answers_prefill_other_pages_and_survive_going_back(app_url, page, shots_dir):
    open_page(page, app_url)
    select(page, "Start from an example", "on prem qlora consumer gpu")
    set_number(page, EXAMPLES, 4321)  # typed by hand after the example
    expect(_metric(page, "Primary approach")).to_have_text("QLoRA")
    needs = multiselect_tags(page, NEEDS)

    go_to(page, "Estimator")
    expect(page.locator(".st-key-est_model input")).to_have_value("qwen2.5-14b")
    expect(page.locator(".st-key-est_gpu input")).to_have_value("RTX 4090")
    expect(page.locator(".st-key-est_method input")).to_have_value("qlora")
    screenshot(page, shots_dir / "journey-estimator-prefilled.png")

    go_to(page, "Advisor")
    assert number_value(page, EXAMPLES) == "4321"
    assert multiselect_tags(page, NEEDS) == needs and needs
    assert text_value(page, "Which base model") == "qwen2.5-14b"


def _download(page, fmt: str, folder) -> bytes:
    button = page.locator('[data-testid="stDownloadButton"] button').filter(
        has_text=re.compile(rf"{fmt.upper()}$"))  # after the icon's ligature text
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
    expect(_metric(page, "Primary approach")).to_have_text(re.compile(r"^LoRA"))
    headline = _headline(page).inner_text().strip()

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
    screenshot(page, shots_dir / "journey2-report.png")
    assert page.locator(EXCEPTION_BOX).count() == 0
