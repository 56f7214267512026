"""wait_until: returns what the predicate found, says what never came, lets a failure through.
serves: a server's URL answers 200 or not yet; a server that exited is said at once."""
import functools
import http.server
import socket
import subprocess
import sys
import threading

import pytest

from tests.wait import serves, wait_until


def test_returns_the_first_truthy_value():
    answers = iter([None, 0, [], "step 3"])
    assert wait_until(lambda: next(answers), poll_s=0, what="answer") == "step 3"


def test_a_timeout_names_what_never_came_and_the_detail():
    with pytest.raises(AssertionError, match=r"^no marker file within 0\.05 s: the log says nothing$"):
        wait_until(lambda: False, timeout_s=0.05, poll_s=0.01, what="marker file",
                   detail=lambda: "the log says nothing")


def test_an_exception_in_the_predicate_propagates_at_once():
    calls = []

    def failed():
        calls.append(1)
        raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError, match="the run failed"):
        wait_until(failed, timeout_s=60, what="step")
    assert calls == [1]


def test_serves_says_whether_the_url_answers_200_and_raises_once_the_server_exited(tmp_path):
    listing = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), listing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    running = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert serves(f"http://127.0.0.1:{server.server_address[1]}/", running, "the server") is True
        assert serves(closed_url, running, "the server") is False
    finally:
        running.communicate(b"")
        server.shutdown()
        server.server_close()
    with pytest.raises(RuntimeError, match="^the server exited with 0$"):
        serves(closed_url, running, "the server")
