"""Turn user errors into one readable line per problem, for the command line and the pages."""
from __future__ import annotations

import re

from pydantic import ValidationError

from common.text import one_line

_NAMES_A_FIELD = re.compile(r"[A-Za-z_][\w.]*: ")
_SHOWN_INPUT_CHARS = 100  # the most of a rejected value a line echoes


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: `field.path: what was wrong (got VALUE)`; a model-wide check whose
    message already starts with its field (`data: ...`) is that message, not `CompareSpec: data: ...`."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        msg = err.get("msg", "invalid value")
        # A validator's own message already says what is wrong; pydantic prefixes "Value error, ".
        msg = msg.removeprefix("Value error, ")
        if where:
            msg = msg.removeprefix(f"{where}: ")
        elif not _NAMES_A_FIELD.match(msg):
            where = exc.title
        # pydantic's own checks ("Input should be greater than 0") do not say the value; a
        # validator's ValueError says what it needs, already shortened (common.paths echoes 100 chars).
        if "input" in err and not isinstance(err["input"], (dict, list)) and err.get("type") != "value_error":
            msg = f"{msg} (got {one_line(repr(err['input']), _SHOWN_INPUT_CHARS)})"
        lines.append(f"{where}: {msg}" if where else msg)
    return lines


def describe_error(exc: BaseException) -> list[str]:
    """Lines for any user-facing error: validation errors per field, others as their message;
    control characters escaped (`common.text.one_line`), so a file name in a message cannot
    start a line of its own."""
    lines = describe_validation_error(exc) if isinstance(exc, ValidationError) else [str(exc)]
    return [one_line(line) for line in lines]
