"""State shared across pages.

Streamlit deletes a widget's value from session_state when the page holding the widget is not
rendered; re-assigning the values on every run (in the router, before any page runs) keeps what
the user typed when they come back. Buttons, uploaders and forms cannot be assigned, so only
keys with a page prefix and without an action suffix are kept.
"""
from __future__ import annotations

from collections.abc import MutableMapping

PAGE_PREFIXES = ("adv_", "est_", "ft_", "rag_", "cmp_")
# Widgets whose value Streamlit refuses to set through session_state.
ACTION_SUFFIXES = ("_btn", "_button", "_upload", "_uploader", "_download", "_form", "_submit")


def keep_widget_values(state: MutableMapping) -> None:
    for key in list(state.keys()):
        if isinstance(key, str) and key.startswith(PAGE_PREFIXES) and not key.endswith(ACTION_SUFFIXES):
            state[key] = state[key]
