"""app.py, the router, with Streamlit's AppTest: every page loads (and reruns) without an
exception, widget keys follow the convention that lets pages keep their values, and the
advisor's answers travel to the other pages and survive going back."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.nav import COMPARE, ESTIMATOR, FINETUNE, PAGES, RAG
from ui.state import ACTION_SUFFIXES, PAGE_PREFIXES

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
# Widgets whose value Streamlit refuses to set through session_state (writes_allowed=False).
ACTION_WIDGETS = {"button", "download_button", "file_uploader", "form", "form_submit_button", "data_editor",
                  "camera_input", "audio_input", "chat_input", "menu_button"}
WIDGETS = ACTION_WIDGETS | {"text_input", "text_area", "number_input", "selectbox", "multiselect", "radio",
                            "checkbox", "toggle", "slider", "select_slider", "date_input", "time_input",
                            "color_picker", "pills", "segmented_control", "feedback", "dataframe"}


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _go(at: AppTest, page) -> AppTest:
    at.switch_page(page.path).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _example(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="adv_example").set_value(name).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.url_path)
def test_every_page_loads_and_reruns_without_an_exception(page):
    at = _go(_app(), page)
    assert at.title and at.title[0].value
    at.run()  # a second run re-assigns the kept widget values: action widgets must not be among them
    assert not at.exception, [e.message for e in at.exception]


def _key_text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """A widget key as text; `*` stands for a part known only at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id, "*")
    if isinstance(node, ast.JoinedStr):
        return "".join(_key_text(v.value if isinstance(v, ast.FormattedValue) else v, constants) or "*"
                       for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (_key_text(node.left, constants) or "*") + (_key_text(node.right, constants) or "*")
    return None


def _widget_keys(path: Path) -> list[tuple[int, str, str]]:
    tree = ast.parse(path.read_text())
    constants = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
                 for t in n.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WIDGETS:
            for kw in node.keywords:
                if kw.arg == "key" and (text := _key_text(kw.value, constants)) is not None:
                    found.append((node.lineno, node.func.attr, text))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.url_path)
def test_widget_keys_follow_the_state_convention(page):
    """Keys carry the page prefix, so `ui.state.keep_widget_values` keeps them across pages;
    buttons, uploaders, download buttons and forms end with an action suffix, so it leaves them
    alone (Streamlit raises when their value is set through session_state)."""
    wrong = []
    for line, widget, key in _widget_keys(REPO / page.path):
        if not key.startswith("*") and not key.startswith(PAGE_PREFIXES):
            wrong.append(f"line {line}: {widget} key {key!r} lacks a page prefix {PAGE_PREFIXES}")
        if widget in ACTION_WIDGETS and not key.endswith(ACTION_SUFFIXES):
            wrong.append(f"line {line}: {widget} key {key!r} must end with one of {ACTION_SUFFIXES}")
    assert not wrong, f"{page.path}: " + "; ".join(wrong)


def test_advisor_answers_prefill_the_estimator_with_the_recommended_setup():
    at = _example(_app(), "daily_facts_and_tone")
    plan = at.session_state["recommendation"].finetune
    _go(at, ESTIMATOR)
    assert at.text_input(key="est_model").value == plan.model
    assert at.selectbox(key="est_method").value == plan.method
    assert at.selectbox(key="est_gpu").value == plan.fit.gpu
    assert at.number_input(key="est_gpus").value == plan.fit.gpus
    total = next(m for m in at.metric if m.label.startswith("Total per GPU"))
    assert float(total.value) == pytest.approx(plan.fit.total_gib, abs=0.01)  # the advisor's figure


def test_changed_advice_reaches_the_estimator_but_what_was_typed_there_stays():
    at = _go(_example(_app(), "daily_facts_and_tone"), ESTIMATOR)
    at.number_input(key="est_mfu").set_value(0.5).run()
    _go(at, PAGES[0])
    at.text_input(key="adv_model").set_value("qwen2.5-7b").run()
    _go(at, ESTIMATOR)
    assert at.text_input(key="est_model").value == "qwen2.5-7b"
    assert at.number_input(key="est_mfu").value == 0.5


def test_going_back_keeps_what_was_typed():
    at = _app()
    at.multiselect(key="adv_needs").set_value(["tone_style", "private_knowledge"])
    at.number_input(key="adv_labeled_examples").set_value(1234).run()
    for page in PAGES[1:]:
        _go(at, page)
    _go(at, PAGES[0])
    assert at.multiselect(key="adv_needs").value == ["tone_style", "private_knowledge"]
    assert at.number_input(key="adv_labeled_examples").value == 1234


def test_recommendation_links_to_the_pages_that_run_it():
    at = _example(_app(), "daily_facts_and_tone")
    linked = {el.proto.page for el in at.get("page_link")}  # the target pages' url paths
    assert {ESTIMATOR.url_path, RAG.url_path, FINETUNE.url_path, COMPARE.url_path} <= linked, linked


def test_training_pages_start_from_the_recommended_model_and_method():
    at = _example(_app(), "on_prem_qlora_consumer_gpu")
    _go(at, FINETUNE)
    assert at.text_input(key="ft_model").value == "Qwen/Qwen2.5-14B"
    assert at.selectbox(key="ft_method").value == "qlora"
    _go(at, COMPARE)
    assert at.text_input(key="cmp_model").value == "Qwen/Qwen2.5-14B"
    # The comparison runs here, not on the advised GPU: auto = QLoRA on a GPU, LoRA on a CPU.
    assert at.selectbox(key="cmp_ft_method").value == "auto"


def test_serves_on_localhost_with_an_upload_cap():
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert 0 < config["server"]["maxUploadSize"] <= 1024  # MB
