"""A Chroma `HttpClient` whose every request has a time limit.

chromadb 1.5.9 builds its httpx session with `timeout=None` (chromadb/api/fastapi.py,
`FastAPI.__init__`) and has no setting for it, so a server that accepts a connection and never
answers hangs the caller forever. Here the client is built in a helper thread that is given up
after the limit (building it already makes three requests: /auth/identity, the tenant, the
database), and its session is then replaced by one with the limit, whose timeouts become a
RagError naming the URL and the limit. Imported only when a server URL is used.
"""
from __future__ import annotations

import threading
from typing import Any

import httpx

from rag_baseline.errors import RagError


def no_answer(url: str, timeout_s: float) -> RagError:
    return RagError(f"the Chroma server at {url} did not answer within {timeout_s:g} s: check that it is a "
                    "Chroma server (chroma run) and that it is not stuck")


class BoundedSession(httpx.Client):
    """chromadb's session with a limit on every wait (connect, read, write, pool)."""

    def __init__(self, server: Any, url: str, timeout_s: float) -> None:
        verify = server._settings.chroma_server_ssl_verify
        super().__init__(timeout=timeout_s, limits=server.http_limits, headers=server._session.headers,
                         **({} if verify is None else {"verify": verify}))
        self.url, self.timeout_s = url, timeout_s

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        try:
            return super().request(*args, **kwargs)
        except httpx.TimeoutException:
            raise no_answer(self.url, self.timeout_s) from None


def connect(url: str, timeout_s: float, **http_client_args: Any):
    """`chromadb.HttpClient(**http_client_args)`, given up after `timeout_s` (the abandoned
    thread is a daemon: it ends when the server closes the connection, or with the process)."""
    import chromadb

    built: dict[str, Any] = {}

    def build() -> None:
        try:
            built["client"] = chromadb.HttpClient(**http_client_args)
        except Exception as exc:  # handed to the caller's thread
            built["error"] = exc

    worker = threading.Thread(target=build, name=f"chroma-connect {url}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise no_answer(url, timeout_s)
    if "error" in built:
        raise built["error"]
    client = built["client"]
    server = client._server  # chromadb.api.fastapi.FastAPI: `_session` is what every request uses
    unbounded, server._session = server._session, BoundedSession(server, url, timeout_s)
    unbounded.close()
    return client
