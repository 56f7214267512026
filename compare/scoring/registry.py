"""Scorer names: `NAME[,NAME...]` with NAME one of `common.vocabulary.SCORERS` or
`python:MODULE:FUNCTION` (MODULE a dotted module name or a path to a .py file).

A comma always separates two names, so a user scorer's path cannot contain one.
"""
from __future__ import annotations

from pathlib import Path

from common.vocabulary import SCORERS, USER_SCORER_PREFIX
from compare.scoring.errors import ScoringError


def parse_scorer_names(value: str | list[str]) -> list[str]:
    """'json, sql-exec' -> ['json', 'sql-exec']: stripped, checked, repeats dropped, order kept."""
    parts = value.split(",") if isinstance(value, str) else [p for item in value for p in item.split(",")]
    names: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if part not in SCORERS and not part.startswith(USER_SCORER_PREFIX):
            raise ScoringError(
                f"unknown scorer {part!r}: expected one of {', '.join(SCORERS)} or {USER_SCORER_PREFIX}MODULE:FUNCTION"
            )
        if part.startswith(USER_SCORER_PREFIX):
            split_user_scorer(part)  # checks its shape
        if part not in names:
            names.append(part)
    if not names:
        raise ScoringError(
            f"no scorer named: expected one or more of {', '.join(SCORERS)} or {USER_SCORER_PREFIX}MODULE:FUNCTION"
        )
    return names


def split_user_scorer(name: str) -> tuple[str, str]:
    """'python:checks/score.py:grade' -> ('checks/score.py', 'grade')."""
    body = name.removeprefix(USER_SCORER_PREFIX)
    module, _, function = body.rpartition(":")
    if not module or not function.isidentifier():
        raise ScoringError(
            f"scorer {name!r}: expected {USER_SCORER_PREFIX}MODULE:FUNCTION, e.g. python:my_scores.py:grade"
        )
    if not is_path(module) and not all(p.isidentifier() for p in module.split(".")):
        raise ScoringError(f"scorer {name!r}: {module!r} is neither a dotted module name nor a .py file")
    return module, function


def is_path(module: str) -> bool:
    """A user scorer's MODULE is a file when it ends in .py or names a folder."""
    return module.endswith(".py") or "/" in module or "\\" in module


def resolve_user_scorer(name: str) -> str:
    """The same name with a file MODULE made absolute (the worker may run elsewhere); the file must
    exist, be named *.py and compile (checked without running it: `check_source`)."""
    module, function = split_user_scorer(name)
    if not is_path(module):
        return name
    path = Path(module).expanduser().resolve()
    if not path.is_file():
        raise ScoringError(f"scorer {name!r}: no file {path}")
    check_source(name, path)
    return f"{USER_SCORER_PREFIX}{path}:{function}"


def check_source(name: str, path: Path) -> None:
    """A scorer file must be Python source named *.py (Python imports nothing else) that compiles;
    compiling runs none of it. ScoringError naming the file, and the line of a syntax error."""
    if path.suffix != ".py":
        raise ScoringError(f"scorer {name!r}: {path.name} is not a .py file (a scorer is Python source named *.py)")
    try:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScoringError(f"scorer {name!r}: {path.name} line {exc.lineno}: syntax error: {exc.msg}") from None
    except ValueError as exc:  # Python 3.11: NUL bytes in the source
        raise ScoringError(f"scorer {name!r}: {path.name}: {exc}") from None
