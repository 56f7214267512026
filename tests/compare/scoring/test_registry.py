"""Scorer names: NAME[,NAME...] and python:MODULE:FUNCTION."""
from __future__ import annotations

import pytest

from compare.scoring.errors import ScoringError
from compare.scoring.registry import parse_scorer_names, resolve_user_scorer, split_user_scorer


def test_names_are_split_stripped_and_deduplicated_in_order():
    assert parse_scorer_names(" sql-exec, json,sql-exec ,") == ["sql-exec", "json"]
    assert parse_scorer_names(["json,python:pkg.mod:fn"]) == ["json", "python:pkg.mod:fn"]


@pytest.mark.parametrize("value, message", [
    ("jsn", "unknown scorer 'jsn': expected one of json, sql-exec or python:MODULE:FUNCTION"),
    ("python:score.py", "expected python:MODULE:FUNCTION"),
    ("python:my-scores:fn", "is neither a dotted module name nor a .py file"),
    (" , ", "no scorer named"),
])
def test_bad_names_say_what_was_expected(value, message):
    with pytest.raises(ScoringError, match=message):
        parse_scorer_names(value)


def test_a_user_scorer_names_a_module_or_a_file():
    assert split_user_scorer("python:team.checks:grade") == ("team.checks", "grade")
    assert split_user_scorer("python:C:\\scores\\s.py:grade") == ("C:\\scores\\s.py", "grade")


def test_a_file_is_made_absolute_and_must_exist(tmp_path, monkeypatch):
    (tmp_path / "s.py").write_text("def grade(*a): return 1\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_user_scorer("python:./s.py:grade") == f"python:{tmp_path / 's.py'}:grade"
    assert resolve_user_scorer("python:team.checks:grade") == "python:team.checks:grade"
    with pytest.raises(ScoringError, match="no file"):
        resolve_user_scorer("python:./absent.py:grade")
