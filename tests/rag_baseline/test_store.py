"""Every wait on a Chroma server is bounded: a server that accepts and never answers ends in one
clear line naming the URL and the limit, not a hang."""
from __future__ import annotations

import os
import signal
import socket
import threading

import pytest

from cli.main import main
from rag_baseline import store as store_module
from rag_baseline.errors import RagError
from rag_baseline.schemas import StoreConfig


@pytest.fixture
def silent_server():
    """A loopback server that accepts every connection and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop, held = threading.Event(), []

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(store_module, "HTTP_TIMEOUT_S", 1.0)
    monkeypatch.setattr(store_module, "_CLIENTS", {})


@pytest.mark.timeout(60)
def test_a_server_that_never_answers_is_a_clear_error(silent_server, short_limit):
    with pytest.raises(RagError) as exc:
        store_module.get_client(StoreConfig(url=silent_server))
    assert str(exc.value).startswith(f"the Chroma server at {silent_server} did not answer within 1 s")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["rag search q --url {url}", "rag index --docs {docs} --url {url}",
                                     "rag stats --url {url}"])
def test_rag_commands_give_up_with_one_line(command, silent_server, short_limit, docs, capsys):
    assert main(command.format(url=silent_server, docs=docs).split()) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"{silent_server} did not answer within 1 s" in err, err


def test_a_live_server_still_works_through_the_bounded_client(chroma_server, short_limit, docs):
    from rag_baseline.index import index_documents
    from rag_baseline.retrieve import search

    store = StoreConfig(url=chroma_server, collection="bounded-client")
    assert index_documents([docs], store).chunks_total > 0
    assert search(["How long does a refund take?"], store, k=1)[0][0].source.endswith("refunds.md")


@pytest.mark.timeout(120)
def test_a_server_that_stops_answering_mid_session_is_a_clear_error(own_chroma_server, short_limit, docs):
    from rag_baseline.index import index_documents
    from rag_baseline.retrieve import search

    url, server = own_chroma_server
    store = StoreConfig(url=url, collection="stops-answering")
    index_documents([docs], store)  # connected, and the session's connection kept alive
    os.kill(server.pid, signal.SIGSTOP)  # the kernel still accepts; nothing answers
    try:
        with pytest.raises(RagError, match=f"{url} did not answer within 1 s"):
            search(["How long does a refund take?"], store, k=1)
    finally:
        os.kill(server.pid, signal.SIGCONT)
