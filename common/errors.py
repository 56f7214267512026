"""Turn user errors into one readable line per problem, for the command line and the pages."""
from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: `field.path: what was wrong (got VALUE)`."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or exc.title
        msg = err.get("msg", "invalid value")
        # A validator's own message already says what is wrong; pydantic prefixes "Value error, ".
        msg = msg.removeprefix("Value error, ").removeprefix(f"{where}: ")
        if "input" in err and not isinstance(err["input"], (dict, list)):
            msg = f"{msg} (got {err['input']!r})"
        lines.append(f"{where}: {msg}")
    return lines


def describe_error(exc: BaseException) -> list[str]:
    """Lines for any user-facing error: validation errors per field, others as their message."""
    if isinstance(exc, ValidationError):
        return describe_validation_error(exc)
    return [str(exc)]
