"""A pause point named in FTADVISOR_PAUSE_AT holds the process: it writes its marker with the pid,
waits, and goes on once told. Any other point, or no variable, does nothing."""
from __future__ import annotations

import os
import threading

import pytest

from common.pause import PAUSE_ENV, go_file, pause_point, paused_file
from tests.wait import wait_until


def test_the_named_point_says_it_is_held_waits_and_goes_on_when_told(tmp_path, monkeypatch):
    monkeypatch.setenv(PAUSE_ENV, "here")
    held = threading.Thread(target=pause_point, args=("here", tmp_path), daemon=True)
    held.start()
    try:
        wait_until(paused_file("here", tmp_path).exists, timeout_s=10, what="the marker of point 'here'")
        assert paused_file("here", tmp_path).read_text() == f"{os.getpid()}\n"
        assert held.is_alive()  # it cannot return before the go file exists
        assert sorted(p.name for p in tmp_path.iterdir()) == [".paused-here"]
    finally:
        go_file("here", tmp_path).touch()
    held.join(timeout=10)
    assert not held.is_alive()


@pytest.mark.parametrize("named", [None, "", "elsewhere", "here "])
def test_any_other_point_or_no_variable_does_nothing(tmp_path, monkeypatch, named):
    if named is None:
        monkeypatch.delenv(PAUSE_ENV, raising=False)
    else:
        monkeypatch.setenv(PAUSE_ENV, named)
    (tmp_path / "a-file").write_text("x")
    pause_point("here", tmp_path / "a-file" / "sub")  # any write there would raise NotADirectoryError
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]
