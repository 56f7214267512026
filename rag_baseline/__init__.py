"""The RAG baseline: a real Chroma index over the user's documents (embedded folder or server),
offline embeddings, retrieval with scores and sources, and answers that cite them.

Importing this package is light: chromadb, torch and sentence_transformers load inside the
functions that need them.
"""
from rag_baseline.errors import RagError
from rag_baseline.schemas import Answer, Chunk, IndexReport, SearchHit, StoreConfig, StoreStats, Timings

__all__ = [
    "Answer", "Chunk", "IndexReport", "RagError", "SearchHit", "StoreConfig", "StoreStats", "Timings",
    "answer_many", "build_rag_prompt", "index_documents", "search", "store_stats",
]
# `answer(...)` itself: `from rag_baseline.answer import answer` (the module has its name).


def __getattr__(name: str):
    """Lazy public functions, so `import rag_baseline` stays import-light."""
    if name == "index_documents":
        from rag_baseline.index import index_documents
        return index_documents
    if name == "search":
        from rag_baseline.retrieve import search
        return search
    if name in ("answer_many", "build_rag_prompt"):
        import rag_baseline.answer as answer_module
        return getattr(answer_module, name)
    if name == "store_stats":
        from rag_baseline.store import store_stats
        return store_stats
    raise AttributeError(f"module 'rag_baseline' has no attribute {name!r}")
