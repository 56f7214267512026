"""The Advisor page (the app's landing page) with Streamlit's AppTest, run through app.py's
router as a user meets it."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from advisor import Answers

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def at():
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    assert not app.exception
    return app


def _headline(app) -> str:
    return app.success[0].value


def test_landing_page_shows_a_recommendation_and_downloads(at):
    assert "Prompting" in _headline(at)
    keys = {b.key for b in at.get("download_button")}
    assert keys == {"adv_md_download", "adv_html_download", "adv_pdf_download", "adv_json_download"}
    assert isinstance(at.session_state["answers"], Answers)
    assert at.session_state["recommendation"].primary == "prompting"
    # Questions are in plain language, with help texts, grouped.
    assert at.multiselect(key="adv_needs").label == Answers.model_fields["needs"].description
    assert at.number_input(key="adv_labeled_examples").help
    assert {e.label for e in at.expander} >= {"Your goal", "Your knowledge and data",
                                               "Your model, hardware and constraints", "Your scale"}


def test_changing_an_answer_changes_the_recommendation(at):
    at.multiselect(key="adv_needs").set_value(["private_knowledge"]).run()
    assert "RAG" in _headline(at)
    assert at.session_state["recommendation"].primary == "rag"
    at.multiselect(key="adv_needs").set_value(["tone_style", "output_format"])
    at.number_input(key="adv_labeled_examples").set_value(3000)
    at.selectbox(key="adv_prompting_result").set_value("inconsistent")
    at.selectbox(key="adv_gpu").set_value("T4").run()
    assert not at.exception
    rec = at.session_state["recommendation"]
    assert rec.primary == "qlora" and "QLoRA" in _headline(at)
    assert any("What would change it" in m.value for m in at.markdown)
    assert any(c.value.startswith("ftadvisor tune") for c in at.code)


def test_invalid_input_names_the_field(at):
    at.text_input(key="adv_model").set_value("no-such-model-xyz").run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("model:")


def test_example_fills_the_answers(at):
    at.selectbox(key="adv_example").set_value("daily_facts_and_tone").run()
    assert not at.exception
    rec = at.session_state["recommendation"]
    assert (rec.primary, rec.combine_with) == ("lora", ["rag"])
    assert at.number_input(key="adv_labeled_examples").value == 5000


def test_prefills_from_saved_answers():
    app = AppTest.from_file(APP, default_timeout=60)
    app.session_state["answers"] = Answers(needs=["fresh_facts"], knowledge_update="daily",
                                           citations_required=True)
    app.run()
    assert not app.exception
    assert app.session_state["recommendation"].primary == "rag"
    assert app.checkbox(key="adv_citations_required").value is True


def test_reasons_and_sources_show_readable_titles(at):
    at.selectbox(key="adv_example").set_value("seventy_b_lora_eight_a100").run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "source: Fine-Tuning (GEO & AI-search glossary entry)" in text
    assert "**You can now train a 70b language model at home (Answer.AI, 2024)**" in text
    assert ".txt" not in text
    assert "--gpus 8 --sharding fsdp" in "\n".join(c.value for c in at.code)


def test_widgets_come_from_the_answers_fields(at):
    """ui.forms.field_widget draws them: help texts from Answers, no GPU is '(none)'."""
    from ui.forms import NONE_LABEL

    gpu = at.selectbox(key="adv_gpu")
    assert gpu.value == NONE_LABEL and gpu.options[0] == NONE_LABEL and "A100 80GB" in gpu.options
    assert at.number_input(key="adv_budget_usd").value is None
    assert at.text_area(key="adv_use_case").help == Answers.model_fields["use_case"].json_schema_extra["help"]
    gpu.set_value("A100 80GB").run()
    assert at.session_state["answers"].gpu == "A100 80GB"
