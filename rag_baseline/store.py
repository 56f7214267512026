"""Chroma, embedded or served, through one code path.

`StoreConfig(path=...)` opens a `PersistentClient` on a folder; `StoreConfig(url=...)` an
`HttpClient` on a `chroma run` server, every request bounded by HTTP_TIMEOUT_S (chroma_http.py).
Either way the caller gets a collection whose embedding function is the offline model (never
Chroma's default, which downloads) and whose distance is cosine. Telemetry is off. Clients are
cached: Chroma allows one `Settings` per path per process. Only one process writes a persistent
store at a time (`write_lock`).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from common.paths import resolve_user_path
from rag_baseline.errors import RagError
from rag_baseline.schemas import StoreConfig, StoreStats

CHROMA_DB_FILE = "chroma.sqlite3"
LOCK_FILE = ".ftadvisor-write.lock"
# Longest wait for one request to a Chroma server (connect, send, answer). A heartbeat takes
# milliseconds and adding 256 chunks well under a second on a loopback server (measured); 30 s
# leaves room for a loaded server without hanging on one that never answers.
HTTP_TIMEOUT_S = 30.0
_CLIENTS: dict[str, object] = {}


def _settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def check_store_folder(path: Path, *, create: bool) -> None:
    """A clear error for a folder that is not (and cannot become) a Chroma store."""
    if path.exists() and not path.is_dir():
        raise RagError(f"{path} is a file, not a Chroma store folder")
    if (path / CHROMA_DB_FILE).is_file():
        return
    entries = [p.name for p in path.iterdir() if p.name != LOCK_FILE] if path.is_dir() else []
    if entries:
        raise RagError(
            f"{path} is not a Chroma store (no {CHROMA_DB_FILE}; it holds {', '.join(sorted(entries)[:3])}"
            f"{', ...' if len(entries) > 3 else ''}): give an empty or new folder, or an existing store"
        )
    if not create:
        raise RagError(
            f"no Chroma store at {path}: index documents first (ftadvisor rag index --docs ... --store {path})"
        )


def get_client(store: StoreConfig, *, create: bool = False):
    """The (cached) client for a store folder or server URL; errors say what to do."""
    if store.url:
        return _http_client(store.url)
    path = resolve_user_path(store.path, "store")
    check_store_folder(path, create=create)
    key = f"path:{path}"
    if key not in _CLIENTS:
        import chromadb

        path.mkdir(parents=True, exist_ok=True)
        try:
            _CLIENTS[key] = chromadb.PersistentClient(path=str(path), settings=_settings())
        except Exception as exc:  # chromadb raises assorted types for a damaged database
            raise RagError(f"{path} is not a readable Chroma store ({type(exc).__name__}: {exc})") from None
    return _CLIENTS[key]


def _http_client(url: str):
    key = f"url:{url}"
    if key in _CLIENTS:
        return _CLIENTS[key]
    from rag_baseline.chroma_http import connect

    parsed = urlparse(url)
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    hint = f"start one with `chroma run --path DIR --host {parsed.hostname} --port {port}`"
    try:
        client = connect(url, HTTP_TIMEOUT_S, host=parsed.hostname, port=port, ssl=ssl, settings=_settings())
        client.heartbeat()
    except RagError:  # it did not answer in time: already says so
        raise
    except Exception as exc:  # connection refused, not a Chroma server
        raise RagError(f"cannot reach the Chroma server at {url} ({exc}); {hint}") from None
    _CLIENTS[key] = client
    return client


def embedding_function():
    from rag_baseline.embedding_function import OfflineMiniLM

    return OfflineMiniLM()


def open_collection(store: StoreConfig, *, create: bool = False):
    """The store's collection with the offline embedding function (created when `create`)."""
    from chromadb.errors import NotFoundError

    client = get_client(store, create=create)
    try:
        if create:
            return client.get_or_create_collection(
                store.collection, embedding_function=embedding_function(),
                configuration={"hnsw": {"space": "cosine"}},
            )
        return client.get_collection(store.collection, embedding_function=embedding_function())
    except RagError:
        raise
    except NotFoundError:
        have = ", ".join(list_collections(store)) or "none"
        raise RagError(f"no collection {store.collection!r} in {store.where} (collections: {have})") from None
    except Exception as exc:
        raise RagError(
            f"cannot open collection {store.collection!r} in {store.where} ({type(exc).__name__}: {exc})"
        ) from None


def list_collections(store: StoreConfig) -> list[str]:
    client = get_client(store)
    try:
        return sorted(c if isinstance(c, str) else c.name for c in client.list_collections())
    except Exception as exc:
        raise RagError(f"cannot list the collections in {store.where} ({type(exc).__name__}: {exc})") from None


@contextlib.contextmanager
def write_lock(store: StoreConfig) -> Iterator[None]:
    """Exclusive, non-blocking: a second writer of the same persistent store fails at once with
    the holder's pid. A server store needs no lock (the server serialises writes)."""
    if store.url:
        yield
        return
    path = resolve_user_path(store.path, "store")
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise RagError(f"another process (pid {holder}) is writing to {path}; wait for it to finish") from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def store_stats(store: StoreConfig) -> StoreStats:
    """How many chunks the collection holds, per source file, and how it is embedded."""
    from collections import Counter

    from lm.embeddings import EMBEDDING_DIM, EMBEDDING_MODEL_NAME
    from rag_baseline.schemas import SourceStats

    collection = open_collection(store)
    counts: Counter[str] = Counter()
    offset, page_size = 0, 5000
    while True:
        page = collection.get(include=["metadatas"], limit=page_size, offset=offset)
        counts.update((m or {}).get("source", "") for m in page["metadatas"])
        if len(page["ids"]) < page_size:
            break
        offset += page_size
    space = (collection.configuration or {}).get("hnsw", {}) or {}
    return StoreStats(
        store=store.where, collection=store.collection, chunks=sum(counts.values()),
        sources=[SourceStats(source=s, chunks=n) for s, n in sorted(counts.items())],
        embedding_model=EMBEDDING_MODEL_NAME, embedding_dim=EMBEDDING_DIM,
        space=str(space.get("space", "cosine")),
    )
