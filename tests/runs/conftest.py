"""The `fake_kind` fixture: launch a stand-in worker (tests/runs/fake_worker.py) in tmp_path."""
from __future__ import annotations

import pytest

import runs
from tests.runs.fake_worker import FAKE_MODULE, FAKE_WORKER, FakeSpec, fake_workers


@pytest.fixture
def fake_module(tmp_path, monkeypatch):
    """The fake worker importable by the processes we start, and its kind known to the launcher."""
    (tmp_path / f"{FAKE_MODULE}.py").write_text(FAKE_WORKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setitem(runs.WORKERS, "fake", FAKE_MODULE)
    return FAKE_MODULE


@pytest.fixture
def fake_kind(fake_module, tmp_path):
    """fake_kind(mode, name="run") launches a detached fake worker and returns its run folder."""
    launched = []

    def launch(mode: str, name: str = "run"):
        launched.append(runs.launch(FakeSpec(output=str(tmp_path / name), mode=mode)))
        return launched[-1]

    yield launch
    for run_dir in launched:  # never leave a worker behind
        for proc in fake_workers(run_dir):
            proc.kill()

