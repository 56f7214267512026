"""The Advisor page (the app's landing page) with Streamlit's AppTest, run through app.py's
router as a user meets it."""
import shutil
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


# -- The comparison in the report ----------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch):
    """file name -> the deferred callable each download button registered (wraps Streamlit's own
    MediaFileManager.add_deferred), so a test can make the report a click would download."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    made, original = {}, MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        made[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def test_without_comparison_runs_the_picker_is_off_and_the_report_has_none(at):
    picker = at.selectbox(key="adv_comparison")
    assert picker.value is None and picker.disabled


def test_the_report_carries_the_comparison_launched_from_these_answers(at, downloads):
    from common.settings import load_settings
    from tests.advisor.comparison_run import write_comparison_run

    runs = load_settings().runs_dir
    mine = write_comparison_run(runs, "20250101-100000-compare", answers=at.session_state["answers"],
                                created_at=1.0)
    other = write_comparison_run(runs, "20250101-110000-compare", created_at=2.0, arms=("base", "rag"))
    at.run()
    assert not at.exception
    picker = at.selectbox(key="adv_comparison")
    assert picker.value == str(mine) and not picker.disabled  # offered by default
    assert picker.options == ["none", "20250101-100000-compare (SmolLM2-135M-Instruct), from these answers",
                              "20250101-110000-compare (SmolLM2-135M-Instruct)"]
    assert any("Fine-tuned + RAG (hybrid) ranks first" in c.value for c in at.caption)
    md = downloads["ftadvisor-report.md"]().decode()
    assert "## Comparison results" in md and "run 20250101-100000-compare" in md

    picker.set_value(str(other)).run()  # another completed run, chosen from the list
    assert not at.exception
    assert any("Base + RAG ranks first" in c.value for c in at.caption)
    assert "run 20250101-110000-compare" in downloads["ftadvisor-report.md"]().decode()
    html = downloads["ftadvisor-report.html"]().decode()
    assert html.count("<svg") == 2  # the memory chart and the quality-against-cost picture

    shutil.rmtree(other)  # the chosen run is deleted: back to the one from these answers
    at.run()
    assert not at.exception and at.selectbox(key="adv_comparison").value == str(mine)

    at.selectbox(key="adv_comparison").set_value(None).run()
    assert not at.exception and at.selectbox(key="adv_comparison").value is None
    assert "Comparison results" not in downloads["ftadvisor-report.md"]().decode()
