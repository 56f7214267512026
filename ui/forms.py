"""Widgets from a pydantic model's fields: the label is the field's description, bounds become
min/max, Literal types become select boxes (a list of Literals a multiselect), bools checkboxes,
optional fields may stay empty.

    values = render_fields(EstimateRequest, "est_", fields=[...], defaults={...}, options={...})
    req = EstimateRequest(**values)

Keys are `prefix + field name`, so a page can pre-set `st.session_state[key]` before rendering.
"""
from __future__ import annotations

import types
import typing
from typing import Any, Literal

import annotated_types
import streamlit as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

NONE_LABEL = "(none)"


def _bounds(info: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            out["min_value"] = meta.ge
        elif isinstance(meta, annotated_types.Gt):
            out["min_value"] = meta.gt
        elif isinstance(meta, annotated_types.Le):
            out["max_value"] = meta.le
        elif isinstance(meta, annotated_types.Lt):
            out["max_value"] = meta.lt
    return out


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """(the inner type, whether None is allowed)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return annotation, False


def field_widget(name: str, info: FieldInfo, key: str, default: Any, options: list | None = None,
                 container: Any = st, *, help_text: str | None = None, format_func: Any = None,
                 multiline: bool = False, step: float | None = None) -> Any:
    """One widget for one field; returns its value in the field's type (None for an empty optional).
    `help_text` replaces the default help (the field name), `format_func` labels the options,
    `multiline` makes a text field a text area, `step` sets a number's step."""
    label = info.description or name.replace("_", " ")
    help_text = help_text or f"`{name}`"
    annotation, optional = _unwrap_optional(info.annotation)
    preset = key in st.session_state  # a value set through session_state wins; passing one too warns
    shown = {"format_func": format_func} if format_func else {}
    item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
    if item is not None and typing.get_origin(item) is Literal:
        start = {} if preset else {"default": list(default or [])}
        return container.multiselect(label, list(typing.get_args(item)), key=key, help=help_text, **start, **shown)
    if options is None and typing.get_origin(annotation) is Literal:
        options = list(typing.get_args(annotation))
    if options is not None:
        choices = ([NONE_LABEL] if optional else []) + [str(o) for o in options]
        current = NONE_LABEL if default is None else str(default)
        start = {} if preset else {"index": choices.index(current) if current in choices else 0}
        picked = container.selectbox(label, choices, key=key, help=help_text, **start, **shown)
        return None if picked == NONE_LABEL else picked
    if annotation is bool:
        start = {} if preset else {"value": bool(default)}
        return container.checkbox(label, key=key, help=help_text, **start)
    if annotation in (int, float):
        step = step or (1 if annotation is int else 0.01)
        step = int(step) if annotation is int else float(step)
        start = {} if preset else {"value": None if default is None else annotation(default)}
        bounds = {k: annotation(v) for k, v in _bounds(info).items()}
        # "%g" for floats: Streamlit's default "%0.2f" shows a learning rate of 2e-4 as 0.00.
        fmt = {} if annotation is int else {"format": "%g"}
        return container.number_input(label, step=step, key=key, help=help_text,
                                      placeholder="(none)" if optional else None, **bounds, **start, **fmt)
    start = {} if preset else {"value": "" if default is None else _as_text(default)}
    text = (container.text_area if multiline else container.text_input)(label, key=key, help=help_text, **start)
    return text.strip() or (None if optional else text)


def _as_text(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value)


def render_fields(model: type[BaseModel], prefix: str, fields: list[str] | None = None,
                  defaults: dict[str, Any] | None = None, options: dict[str, list] | None = None,
                  columns: int = 1) -> dict[str, Any]:
    """Render `fields` (all by default) of `model`; returns {field: value} ready for `model(**values)`."""
    names = fields or list(model.model_fields)
    defaults, options = defaults or {}, options or {}
    cols = st.columns(columns) if columns > 1 else [st]
    values = {}
    for i, name in enumerate(names):
        info = model.model_fields[name]
        default = defaults.get(name, None if info.is_required() else info.get_default(call_default_factory=True))
        values[name] = field_widget(name, info, prefix + name, default, options.get(name), cols[i % len(cols)])
    return values
