"""RAG baseline page: documents (upload or a folder) -> index with a progress bar -> the
collection's stats -> a question answered with the retrieved passages and their scores.

Thin: every step is one call into `rag_baseline`; errors are shown as one line each."""
from __future__ import annotations

from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from common.errors import describe_error
from common.paths import readable_on_a_page
from common.settings import load_settings
from lm.refs import readable_model_ref
from rag_baseline.chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE
from rag_baseline.errors import RagError
from rag_baseline.ingest import SUPPORTED_SUFFIXES
from rag_baseline.schemas import DEFAULT_COLLECTION, StoreConfig
from ui.errors import show_errors
from ui.model_choice import describe_model_field, offline_model_buttons
from ui.uploads import kept_upload

USER_ERRORS = (RagError, ValidationError, FileNotFoundError, ValueError)  # ValueError: a path refused, an upload
settings = load_settings()


def shown(source: str) -> str:
    """An upload by its file name (common.uploads keeps the name's stem), any other file by its path."""
    path = Path(source)
    return path.name if path.parent == settings.uploads_dir else source


st.title("RAG baseline")
st.caption("A real Chroma index over your documents, embedded offline (all-MiniLM-L6-v2), "
           "searched by cosine similarity; answers cite the passages they were given.")

# ---- where the index lives
with st.container(border=True):
    st.subheader("Store")
    mode = st.radio("Chroma", ["Folder (embedded)", "Server (chroma run)"], horizontal=True, key="rag_store_mode")
    c1, c2 = st.columns([3, 1])
    if mode.startswith("Folder"):
        store_dir = c1.text_input("Store folder", value=str(settings.stores_dir / "default"), key="rag_store_dir",
                                  help="Created on first indexing. One process writes it at a time.")
        url = None
    else:
        url = c1.text_input("Server URL", value="http://127.0.0.1:8000", key="rag_url",
                            help="Start one with: chroma run --path DIR --host 127.0.0.1 --port 8000")
        store_dir = None
    collection = c2.text_input("Collection", value=DEFAULT_COLLECTION, key="rag_collection")
    try:  # a store folder lies in the stores folder or where a page may read
        path = readable_on_a_page(store_dir, "store", settings, also=(settings.stores_dir,)) if store_dir else None
        store = StoreConfig(path=path, url=url or None, collection=collection)
    except (ValidationError, ValueError) as exc:
        store = None
        show_errors(exc)

# ---- documents and indexing
with st.container(border=True):
    st.subheader("Documents")
    uploads = st.file_uploader(f"Upload documents (up to {settings.max_upload_mb} MB each)", accept_multiple_files=True,
                               type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES], key="rag_upload")
    docs_dir = st.text_input("…or a folder (or file) on this machine", key="rag_docs_dir",
                             placeholder="/path/to/docs")
    c1, c2 = st.columns(2)
    chunk_size = c1.number_input("Chunk size (characters)", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, DEFAULT_CHUNK_SIZE, 50,
                                 key="rag_chunk_size")
    chunk_overlap = c2.number_input("Chunk overlap (characters)", 0, MAX_CHUNK_SIZE // 2, DEFAULT_CHUNK_OVERLAP, 10,
                                    key="rag_chunk_overlap")
    if st.button("Index", type="primary", key="rag_index_btn", disabled=store is None):
        from rag_baseline.index import index_documents

        try:
            paths = [kept_upload(upload, SUPPORTED_SUFFIXES, settings) for upload in uploads or []]
            if docs_dir.strip():
                paths.append(readable_on_a_page(docs_dir, "docs", settings))
            if not paths:
                raise RagError("upload documents or give a folder first")
            bar = st.progress(0.0, text="Reading and chunking…")
            report = index_documents(
                paths, store, chunk_size=int(chunk_size), chunk_overlap=int(chunk_overlap),
                on_progress=lambda done, total: bar.progress(done / total if total else 1.0,
                                                             text=f"Embedding {done}/{total} chunks"),
            )
            bar.progress(1.0, text="Done")
            st.session_state["rag_last_report"] = report.summary()
        except USER_ERRORS as exc:
            show_errors(exc)

    last = st.session_state.get("rag_last_report")
    if last:
        done, *skipped = last.splitlines()  # IndexReport.summary(): the counts, then one line per skipped file
        st.success(done)
        for line in skipped:
            st.warning(line)

# ---- the collection
with st.container(border=True):
    st.subheader("Collection")
    if store is not None:
        from rag_baseline.store import store_stats

        try:
            stats = store_stats(store)
            c1, c2, c3 = st.columns(3)
            c1.metric("Chunks", stats.chunks)
            c2.metric("Files", len(stats.sources))
            c3.metric("Embedding", f"{stats.embedding_model} ({stats.embedding_dim})")
            if stats.sources:
                st.dataframe([{"file": shown(s.source), "chunks": s.chunks} for s in stats.sources],
                             hide_index=True, width="stretch")
        except USER_ERRORS as exc:
            st.info(describe_error(exc)[0])

# ---- ask
with st.container(border=True):
    st.subheader("Ask")
    question = st.text_input("Question", key="rag_question")
    c1, c2, c3 = st.columns(3)
    k = c1.slider("Passages (k)", 1, 20, 4, key="rag_k")
    min_score = c2.slider(
        "Relevance threshold (cosine)",
        0.0,
        1.0,
        0.2,
        0.05,
        key="rag_min_score",
        help="Passages below it do not count; with none left, the documents do not cover the question.",
    )
    mmr = c3.checkbox("Diversify (MMR)", key="rag_mmr")
    offline_model_buttons("rag_model")
    model = st.text_input("Model for the answer (hub id, folder or offline model name; empty: retrieval only)",
                          key="rag_model")
    describe_model_field(model)
    if st.button("Ask", key="rag_ask_btn", disabled=store is None):
        from rag_baseline.answer import answer

        try:
            if not question.strip():
                raise RagError("type a question first")
            lm = readable_model_ref(model, settings) or None  # a typed folder must lie where a page may read
            with st.spinner("Retrieving" + (" and generating…" if lm else "…")):
                result = answer(question, store, lm, k=int(k), min_score=float(min_score), mmr=bool(mmr))
            st.session_state["rag_last_answer"] = result.model_dump()
        except USER_ERRORS as exc:
            show_errors(exc)

    result = st.session_state.get("rag_last_answer")
    if result:
        t = result["timings"]
        if not result["covered"]:
            st.warning(result["answer"])
        elif result["model"]:
            st.markdown("**Answer**")
            st.write(result["answer"] or "(empty answer)")
            st.caption(f"retrieve {t['retrieve_s'] * 1000:.0f} ms · generate {t['generate_s']:.2f} s · "
                       f"{t['prompt_tokens']} prompt + {t['new_tokens']} new tokens · {result['model']}")
        else:
            st.caption(f"retrieve {t['retrieve_s'] * 1000:.0f} ms · retrieval only (no model given)")
        for n, hit in enumerate(result["hits"], start=1):
            with st.expander(f"[{n}] {hit['score']:.3f} · {shown(hit['source'])}", expanded=n == 1):
                st.code(hit["text"], language="sql" if hit["source"].endswith(".sql") else None, wrap_lines=True)
