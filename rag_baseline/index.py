"""Idempotent indexing: documents -> chunks -> offline embeddings -> a Chroma collection.

Chunk ids are `source hash : position : content hash`, so re-indexing unchanged files adds
nothing, a changed file's stale chunks are deleted and only its new chunks are embedded, and
the chunks of a file that no longer exists (or can no longer be read) are removed.
"""
from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

from rag_baseline.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, chunk_document, validate_sizes
from rag_baseline.errors import RagError
from rag_baseline.ingest import read_documents
from rag_baseline.schemas import Chunk, IndexReport, StoreConfig
from rag_baseline.store import open_collection, write_lock

ADD_BATCH = 256  # chunks embedded and written per Chroma call (its own cap is ~5,000)
PAGE = 5000  # rows per `collection.get` page


def chunk_metadata(chunk: Chunk) -> dict:
    return {"source": chunk.source, "position": chunk.position, "start_char": chunk.start_char,
            "content_hash": chunk.content_hash, "section": chunk.section}


def existing_ids_by_source(collection) -> dict[str, set[str]]:
    """{source path: chunk ids} for the whole collection, read page by page."""
    by_source: dict[str, set[str]] = defaultdict(set)
    offset = 0
    while True:
        page = collection.get(include=["metadatas"], limit=PAGE, offset=offset)
        for chunk_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            by_source[(meta or {}).get("source", "")].add(chunk_id)
        if len(page["ids"]) < PAGE:
            return by_source
        offset += PAGE


def index_documents(
    paths: list[str | Path],
    store: StoreConfig,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    on_progress: Callable[[int, int], None] | None = None,
) -> IndexReport:
    """Bring the collection up to date with the files under `paths`; see the module docstring.

    `on_progress(done, total)` is called after every embedding batch (16 chunks). Unreadable files
    are skipped and listed in the report; no readable file at all is a RagError.
    """
    from lm.embeddings import embed

    validate_sizes(chunk_size, chunk_overlap)
    started = time.perf_counter()
    documents, skipped = read_documents(paths)
    if not documents:
        listed = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5])
        raise RagError(f"no readable documents in {', '.join(map(str, paths))}" + (f" ({listed})" if listed else ""))
    report = IndexReport(store=store.where, collection=store.collection, files_skipped=skipped)
    with write_lock(store):
        collection = open_collection(store, create=True)
        existing = existing_ids_by_source(collection)
        to_add: list[Chunk] = []
        to_delete: list[str] = []
        for doc in documents:
            chunks = chunk_document(doc, chunk_size, chunk_overlap)
            old = existing.pop(str(doc.path), set())
            new_ids = {c.id for c in chunks}
            if new_ids == old:
                report.files_unchanged.append(str(doc.path))
                continue
            to_delete.extend(old - new_ids)
            to_add.extend(c for c in chunks if c.id not in old)
            report.files_indexed.append(str(doc.path))
        skipped_paths = {s.path for s in skipped}
        for source, ids in existing.items():
            if source in skipped_paths or not Path(source).exists():
                to_delete.extend(ids)
                report.sources_removed.append(source)
        for start in range(0, len(to_delete), PAGE):
            collection.delete(ids=to_delete[start:start + PAGE])
        report.chunks_deleted = len(to_delete)
        report.embed_seconds = _add_chunks(collection, to_add, embed, on_progress)
        report.chunks_added = len(to_add)
        report.chunks_total = collection.count()
    report.seconds = time.perf_counter() - started
    return report


def _add_chunks(collection, chunks: list[Chunk], embed, on_progress) -> float:
    """Embed and write in batches; returns the seconds spent embedding."""
    embed_s = 0.0
    if on_progress is not None:
        on_progress(0, len(chunks))
    for start in range(0, len(chunks), ADD_BATCH):
        batch = chunks[start:start + ADD_BATCH]
        t0 = time.perf_counter()

        def within(done: int, _batch_total: int, offset: int = start) -> None:
            on_progress(offset + done, len(chunks))

        vectors = embed([c.text for c in batch], on_progress=within if on_progress else None)
        embed_s += time.perf_counter() - t0
        collection.add(ids=[c.id for c in batch], documents=[c.text for c in batch],
                       metadatas=[chunk_metadata(c) for c in batch], embeddings=vectors)
    return embed_s
