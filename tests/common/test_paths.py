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


def test_a_page_reads_only_inside_the_allowed_folders(tmp_path, monkeypatch):
    """A path typed on a page is read only inside the allowed folders: unchecked, a credentials
    file was indexed and shown."""
    from common.paths import PathNotAllowed, readable_on_a_page
    from common.settings import load_settings

    home, extra, outside = tmp_path / "home", tmp_path / "shared-data", tmp_path / "secrets"
    for folder in (home / "data", extra, outside):
        folder.mkdir(parents=True)
    (outside / "credentials.json").write_text("{}")
    (outside / "link.json").symlink_to(outside / "credentials.json")
    (home / "data" / "sneaky.json").symlink_to(outside / "credentials.json")  # resolved before the check
    monkeypatch.setenv("FTADVISOR_HOME", str(home))
    monkeypatch.setenv("FTADVISOR_DATA_DIRS", str(extra))
    settings = load_settings()
    assert readable_on_a_page(str(home / "data" / "qa.csv"), "data", settings) == home / "data" / "qa.csv"
    assert readable_on_a_page(f" {extra}/docs ", "docs", settings) == extra / "docs"
    for typed in (outside / "credentials.json", home / "data" / "sneaky.json", home / "data" / ".." / ".." / "secrets"):
        with pytest.raises(
            PathNotAllowed, match=r"^data: .* is outside the folders this app may read .*FTADVISOR_DATA_DIRS"
        ):
            readable_on_a_page(str(typed), "data", settings)


def test_a_nul_byte_is_one_line_naming_the_field():
    with pytest.raises(ValueError) as exc:
        resolve_user_path("/data/train\x00.jsonl", "data")
    assert str(exc.value) == "data: /data/train\\x00.jsonl holds a NUL byte (\\x00), which no path can hold"


@pytest.mark.parametrize("value", ["/tmp/" + "a" * 100_000, "/tmp/" + "a/" * 50_000 + "x.jsonl"])
def test_a_path_longer_than_path_max_is_refused_at_once_and_echoed_short(value):
    with pytest.raises(ValueError) as exc:
        resolve_user_path(value, "data")
    message = str(exc.value)
    assert message.startswith(f"data: the path is {len(value):,} characters long: at most 4,096 (PATH_MAX) ")
    assert len(message) < 200


def test_a_name_longer_than_name_max_is_one_short_line(tmp_path):
    with pytest.raises(ValueError) as exc:
        resolve_user_path(tmp_path / ("b" * 300 + ".jsonl"), "data")
    message = str(exc.value)
    assert message.startswith("data: cannot use ") and message.endswith("(File name too long)")
    assert len(message) < 200


def test_control_characters_in_a_refused_path_are_escaped(tmp_path):
    (tmp_path / "loop\nok").symlink_to(tmp_path / "loop\nok")
    with pytest.raises(ValueError) as exc:
        resolve_user_path(tmp_path / "loop\nok", "data")
    assert "\n" not in str(exc.value) and "loop\\nok is a symlink loop" in str(exc.value)
