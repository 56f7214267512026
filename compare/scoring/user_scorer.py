"""`python:MODULE:FUNCTION`: the user's own scorer, `FUNCTION(question, answer, reference, row) -> float`
in 0..1, where `row` is a copy of the dataset row (a dict of its columns).

MODULE is a dotted module name found on the Python path, or a path to a .py file (imported with
its folder first on the path, so it can import its neighbours). Loading problems (no file, a
syntax error, an import error, no such function) are found at launch (`check_user_scorer`, in a
child Python) and stop it with one line, before any answering or training.
Per answer, an exception, or a value that is not a number in 0..1 (NaN included; True/False
count as 1/0), is recorded with its message and the answer scores 0, counted among the errors:
excluding it instead would let an arm whose answers break the scorer average over fewer answers.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
import sys
from collections.abc import Callable
from numbers import Real
from pathlib import Path

from compare.scoring.errors import ScoringError
from compare.scoring.registry import check_source, is_path, split_user_scorer
from compare.scoring.results import AnswerScore, ScoringRow

UserFunction = Callable[[str, str, str, dict], float]
CHECK_TIMEOUT_S = 60.0  # a scorer module that takes longer to import is most likely stuck
_CHECKED = "scorer checked\n"  # the child's last stdout line when the scorer loaded
_CHILD = "import sys; from compare.scoring.user_scorer import _check_in_child; _check_in_child(sys.argv[1])"


def load_user_scorer(name: str) -> UserFunction:
    """The function a `python:MODULE:FUNCTION` name points at."""
    module_name, function_name = split_user_scorer(name)
    module = _import_file(name, Path(module_name)) if is_path(module_name) else _import_module(name, module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ScoringError(f"scorer {name!r}: {module_name} has no function {function_name!r}")
    return function


def _import_module(name: str, module_name: str):
    try:
        return importlib.import_module(module_name)
    except SystemExit:
        raise ScoringError(f"scorer {name!r}: {module_name} exited while being imported") from None
    except Exception as exc:  # the user's module may raise anything at import time
        raise ScoringError(f"scorer {name!r}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None


def _import_file(name: str, path: Path):
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ScoringError(f"scorer {name!r}: no file {path}")
    check_source(name, path)
    # A unique module name per file, so two scorers called score.py do not replace each other.
    unique = f"ftadvisor_user_scorer_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SystemExit:
        raise ScoringError(f"scorer {name!r}: {path.name} exited while being imported") from None
    except Exception as exc:
        raise ScoringError(f"scorer {name!r}: cannot import {path.name}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(path.parent))
    sys.modules[unique] = module
    return module


def check_user_scorer(name: str, timeout_s: float = CHECK_TIMEOUT_S) -> None:
    """Import the scorer as the score stage will and check that it names a function, in a child
    Python run from an empty folder like the worker's: importing runs the user's code, which must
    not run (or exit, or hang) inside the page's server or the command. ScoringError with the
    child's one line."""
    import subprocess
    import tempfile

    from runs.launch import worker_env

    with tempfile.TemporaryDirectory(prefix="ftadvisor-scorer-check-") as cwd:
        try:
            done = subprocess.run([sys.executable, "-c", _CHILD, name], cwd=cwd, env=worker_env(),
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise ScoringError(f"scorer {name!r}: importing it took more than {timeout_s:.0f} s") from None
    if done.returncode == 0 and done.stdout.endswith(_CHECKED):
        return
    ours = [line for line in done.stderr.splitlines() if line.startswith(f"scorer {name!r}: ")][-1:]
    raise ScoringError(ours[0] if ours else f"scorer {name!r}: importing it ended the process (code {done.returncode})")


def _check_in_child(name: str) -> None:
    """check_user_scorer's child: its one line on stderr and exit 2, or `_CHECKED` on stdout."""
    try:
        load_user_scorer(name)
    except ScoringError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    print(_CHECKED, end="", flush=True)


class UserScorer:
    """Calls the user's function on each answer; never raises for what the function does."""

    def __init__(self, function: UserFunction):
        self.function = function

    def __call__(self, row: ScoringRow) -> AnswerScore:
        try:
            value = self.function(row.question, row.answer, row.reference, dict(row.row))
        except (Exception, SystemExit) as exc:
            return AnswerScore(score=0.0, status="error", error=f"the scorer raised {type(exc).__name__}: {exc}")
        if not isinstance(value, Real) or math.isnan(value) or not 0 <= value <= 1:
            return AnswerScore(score=0.0, status="error", error=f"the scorer returned {value!r}, not a number in 0..1")
        return AnswerScore(score=float(value), status="ok")

