"""What the advisor hands to the other pages, offered as starting values for their widgets. The
values are `advisor.handoff`'s (the one mapping from the advice to request fields); this module
reads the advice from the session and writes widget keys.

The Advisor page stores `st.session_state["answers"]` (`advisor.Answers`) and
`["recommendation"]` (`advisor.Recommendation`). A page calls, before drawing its widgets:

    from advisor.handoff import estimate_fields
    offer(st.session_state, widget_values(EstimateRequest, "est_", estimate_fields(*session_advice(st.session_state))))

`offer` writes a value when the widget has none yet, or when the advisor's value changed since it
was last offered (the user went back and changed an answer: the newer intent wins); otherwise
what the user typed on the page stays.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

OFFERED_KEY = "_offered"  # widget key -> the advisor's value last offered to it


def offer(state: MutableMapping, values: dict[str, Any]) -> None:
    """Pre-fill widget keys from the advisor without overwriting what the user typed since."""
    offered = state.setdefault(OFFERED_KEY, {})
    for key, value in values.items():
        if value is None:
            continue
        if key not in state or offered.get(key) != value:
            state[key] = value
        offered[key] = value


def session_advice(state: MutableMapping) -> tuple[Any, Any]:
    """(Answers or None, Recommendation or None); answers may also be a dict (e.g. read from JSON)."""
    from advisor import Answers, Recommendation

    answers, rec = state.get("answers"), state.get("recommendation")
    if isinstance(answers, dict):
        try:
            answers = Answers.model_validate(answers)
        except ValueError:  # pydantic's ValidationError included: nothing usable to hand over
            answers = None
    return (answers if isinstance(answers, Answers) else None,
            rec if isinstance(rec, Recommendation) else None)


def widget_values(model: type, prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """`values` of `model`'s fields as widget keys (`prefix + field`), each cast to its field's
    number type: Streamlit refuses an int in a float number_input (and the reverse)."""
    out = {}
    for field, value in values.items():
        if value is None:
            continue
        annotation = model.model_fields[field].annotation
        args = getattr(annotation, "__args__", None) or (annotation,)  # `float | None` -> (float, None)
        if not isinstance(value, bool) and isinstance(value, int | float):
            value = float(value) if float in args else int(value) if int in args else value
        out[prefix + field] = value
    return out
