"""`resolve_user_path`: a typed path made absolute once, and the ways `Path.resolve()` fails turned
into one line naming the field."""
from __future__ import annotations

import os

import pytest

from common.paths import resolve_user_path


def test_expands_home_and_makes_relative_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.jsonl").write_text("{}\n")
    assert resolve_user_path("~/d.jsonl", "data") == tmp_path.resolve() / "d.jsonl"
    assert resolve_user_path("d.jsonl", "data") == tmp_path.resolve() / "d.jsonl"


def test_follows_links_and_leaves_missing_paths_to_the_caller(tmp_path):
    (tmp_path / "real.csv").write_text("a,b\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    assert resolve_user_path(tmp_path / "link.csv", "data") == (tmp_path / "real.csv").resolve()
    assert resolve_user_path(tmp_path / "missing.csv", "data") == tmp_path.resolve() / "missing.csv"


@pytest.mark.parametrize("loop", ["self", "pair", "parent"])
def test_a_symlink_loop_is_one_line_naming_the_field(tmp_path, loop):
    if loop == "self":
        (tmp_path / "d.jsonl").symlink_to(tmp_path / "d.jsonl")
        given = tmp_path / "d.jsonl"
    elif loop == "pair":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        given = tmp_path / "a"
    else:  # a folder on the way is the loop
        (tmp_path / "dir").symlink_to(tmp_path / "dir")
        given = tmp_path / "dir" / "d.jsonl"
    with pytest.raises(ValueError) as exc:
        resolve_user_path(given, "--data")
    message = str(exc.value)
    assert message.startswith(f"--data: {given} is a symlink loop") and "\n" not in message
    assert not isinstance(exc.value, RuntimeError)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_a_folder_that_cannot_be_searched_names_the_field(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "d.jsonl").write_text("{}\n")
    locked.chmod(0)
    try:
        with pytest.raises(ValueError, match=r"^docs: .*permission denied"):
            resolve_user_path(locked / "d.jsonl", "docs")
    finally:
        locked.chmod(0o700)
