"""RAG fixtures: a real `chroma run` server on a free loopback port."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wait import serves, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_chroma(data: Path):
    """`chroma run --path DIR --host 127.0.0.1 --port P`, polled on /api/v2/heartbeat, stopped after;
    yields (url, process)."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip(f"no chroma command next to {sys.executable}")
    port = free_port()
    log = open(data.parent / f"chroma-{port}.log", "w")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: serves(f"{url}/api/v2/heartbeat", proc, f"chroma run (log: {log.name})"), timeout_s=60,
                   poll_s=0.2, what=f"heartbeat from chroma run on {url}")
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server shared by the session's tests (its URL)."""
    with running_chroma(tmp_path_factory.mktemp("chroma-server")) as (url, _):
        yield url


@pytest.fixture
def own_chroma_server(tmp_path):
    """A Chroma server for one test, which may stop it: (url, process)."""
    with running_chroma(tmp_path / "own-chroma") as server:
        yield server
