"""Command-line flags generated from pydantic fields: the type, choices (a Literal), bounds,
help (the field's description) and default text all come from the model, so a default or a
limit is written once, in the model. Flags left unset keep the model's defaults.

    add_field_flags(parser, GenerationSettings, {"max_new_tokens": "--max-new-tokens"})
    given = given_values(args, GenerationSettings, {"max_new_tokens": "--max-new-tokens"})
"""
from __future__ import annotations

import argparse
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


def _dest(model: type[BaseModel], field: str) -> str:
    return f"{model.__name__}.{field}"


def _unwrap(annotation: Any) -> Any:
    """`int | None` -> int; other unions (e.g. `Literal | list[str]`) are taken as text."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation


def _bounds(info: FieldInfo) -> str:
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        low = getattr(meta, "gt", None) if low is None and getattr(meta, "gt", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
        high = getattr(meta, "lt", None) if high is None and getattr(meta, "lt", None) is not None else high
    if low is None and high is None:
        return ""
    return f"{_number(low)}..{_number(high)}"


def _number(value: float | int | None) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _default_text(info: FieldInfo) -> str | None:
    if info.default is not PydanticUndefined:
        value = info.default
    elif info.default_factory is not None:
        value = info.default_factory()
    else:
        return None
    if value is None or value == [] or value == {}:
        return None
    return (
        ",".join(map(str, value))
        if isinstance(value, list)
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )


def add_field_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, model: type[BaseModel],
                    flags: dict[str, str], *, required: tuple[str, ...] = ()) -> None:
    """One option per `field -> flag`, described by the field."""
    for field, flag in flags.items():
        info = model.model_fields[field]
        kind = _unwrap(info.annotation)
        notes = [n for n in (_bounds(info), f"default: {_default_text(info)}" if _default_text(info) else "") if n]
        help_text = (info.description or field).rstrip(".") + (f" ({'; '.join(notes)})" if notes else "")
        kwargs: dict[str, Any] = {"dest": _dest(model, field), "help": help_text, "default": None}
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif get_origin(kind) is Literal:
            kwargs["choices"] = [str(c) for c in get_args(kind)]
        elif kind in (int, float):
            kwargs |= {"type": kind, "metavar": "N" if kind is int else "X"}
        elif kind is Path:
            kwargs["metavar"] = "PATH"
        else:
            kwargs["metavar"] = flag.lstrip("-").replace("-", "_").upper()
        if field in required:
            kwargs["required"] = True
        parser.add_argument(flag, **kwargs)


def given_values(args: argparse.Namespace, model: type[BaseModel], flags: dict[str, str]) -> dict[str, Any]:
    """The fields whose flag was given on the command line."""
    values = {field: getattr(args, _dest(model, field), None) for field in flags}
    return {field: value for field, value in values.items() if value is not None}
