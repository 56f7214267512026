"""python:MODULE:FUNCTION: loaded from a file or a module; a scorer that raises or returns a bad
value costs that answer (score 0, error kept), never the scoring."""
from __future__ import annotations

import pytest

from compare.scoring.errors import ScoringError
from compare.scoring.results import ScoringRow
from compare.scoring.user_scorer import UserScorer, load_user_scorer

SCORES = '''
from helper import WEIGHT   # a neighbour of this file

def exact(question, answer, reference, row):
    return WEIGHT * float(answer.strip() == reference.strip())

def picky(question, answer, reference, row):
    if not answer:
        raise KeyError("empty answer")
    return {"high": 2.0, "nan": float("nan"), "text": "1", "yes": True}.get(answer, 0.5)

def uses_row(question, answer, reference, row):
    row["db"] = "changed"
    return 1.0 if row.get("level") == "easy" else 0.0
'''


@pytest.fixture
def scores_file(tmp_path):
    (tmp_path / "helper.py").write_text("WEIGHT = 1.0\n")
    path = tmp_path / "scores.py"
    path.write_text(SCORES)
    return path


def _row(answer: str, reference: str = "Paris", **row) -> ScoringRow:
    return ScoringRow(question="Capital of France?", answer=answer, reference=reference, row=row)


def test_a_scorer_from_a_file_scores_each_answer(scores_file):
    scorer = UserScorer(load_user_scorer(f"python:{scores_file}:exact"))
    assert scorer(_row("Paris")).model_dump(exclude_none=True) == {"score": 1.0, "status": "ok"}
    assert scorer(_row("Rome")).score == 0.0


def test_it_gets_a_copy_of_the_dataset_row(scores_file):
    scorer = UserScorer(load_user_scorer(f"python:{scores_file}:uses_row"))
    row = _row("x", level="easy", db="a")
    assert scorer(row).score == 1.0 and row.row["db"] == "a"


@pytest.mark.parametrize("answer, error", [
    ("", "the scorer raised KeyError: 'empty answer'"),
    ("high", "the scorer returned 2.0, not a number in 0..1"),
    ("nan", "the scorer returned nan, not a number in 0..1"),
    ("text", "the scorer returned '1', not a number in 0..1"),
])
def test_a_scorer_that_raises_or_returns_a_bad_value_scores_0_with_its_message(scores_file, answer, error):
    result = UserScorer(load_user_scorer(f"python:{scores_file}:picky"))(_row(answer))
    assert (result.score, result.status, result.error) == (0.0, "error", error)


def test_true_counts_as_1(scores_file):
    assert UserScorer(load_user_scorer(f"python:{scores_file}:picky"))(_row("yes")).score == 1.0


def test_a_dotted_module_on_the_path(tmp_path, monkeypatch):
    (tmp_path / "team_checks.py").write_text("def grade(q, a, r, row):\n    return 0.25\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert UserScorer(load_user_scorer("python:team_checks:grade"))(_row("x")).score == 0.25


def test_loading_problems_are_one_line_errors(scores_file, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import not_a_module_anywhere\n")
    with pytest.raises(ScoringError, match="has no function 'missing'"):
        load_user_scorer(f"python:{scores_file}:missing")
    with pytest.raises(ScoringError, match="cannot import broken.py: ModuleNotFoundError"):
        load_user_scorer(f"python:{broken}:grade")
    with pytest.raises(ScoringError, match="no file"):
        load_user_scorer(f"python:{tmp_path}/absent.py:grade")
    with pytest.raises(ScoringError, match="cannot import no_such_module_xyz"):
        load_user_scorer("python:no_such_module_xyz:grade")


# Only the endless import gets a 1 s deadline: a loaded machine can take longer than that just to
# start the child Python, which would turn the other cases into timeouts.
@pytest.mark.parametrize("source, timeout_s, expected", [
    ("import time\nwhile True:\n    time.sleep(0.01)\n", 1, "importing it took more than 1 s"),
    ("import os\nos._exit(0)\n", 60, "importing it ended the process (code 0)"),
    ("def grade(q, a, r, row):\n    return 1\n", 60, None),
])
def test_the_launch_check_imports_the_scorer_in_a_child(tmp_path, source, timeout_s, expected):
    from compare.scoring.user_scorer import check_user_scorer

    path = tmp_path / "slow.py"
    path.write_text(source)
    if expected is None:
        check_user_scorer(f"python:{path}:grade", timeout_s=timeout_s)
        return
    with pytest.raises(ScoringError) as info:
        check_user_scorer(f"python:{path}:grade", timeout_s=timeout_s)
    assert str(info.value) == f"scorer 'python:{path}:grade': {expected}"
