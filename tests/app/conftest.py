import pytest


@pytest.fixture
def pages_may_read(monkeypatch, tmp_path, tmp_path_factory):
    """Let the pages read typed paths under this test's folder and the session's shared folders
    (the tiny model), as FTADVISOR_DATA_DIRS does for a user (common.paths.readable_on_a_page)."""
    monkeypatch.setenv("FTADVISOR_DATA_DIRS", f"{tmp_path}:{tmp_path_factory.getbasetemp()}")
