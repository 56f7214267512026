"""keep_widget_values re-assigns page widgets' values (so Streamlit keeps them while their page is
not shown) and leaves alone what Streamlit refuses to have assigned."""
from __future__ import annotations

from collections import UserDict

from ui.state import keep_widget_values


class Recorder(UserDict):
    def __init__(self, data):
        super().__init__(data)
        self.assigned: list[str] = []

    def __setitem__(self, key, value):
        if hasattr(self, "assigned"):
            self.assigned.append(key)
        super().__setitem__(key, value)


def test_page_widgets_are_reassigned_and_actions_are_not():
    state = Recorder({"adv_needs": ["tone_style"], "est_gpus": 2, "cmp_model": "m", "ft_launch_btn": True,
                      "rag_upload": None, "adv_md_download": False, "ft_form": None, "answers": object()})
    keep_widget_values(state)
    assert sorted(state.assigned) == ["adv_needs", "cmp_model", "est_gpus"]
    assert state["adv_needs"] == ["tone_style"] and state["est_gpus"] == 2
