"""Errors the RAG baseline raises for bad input; messages say what was wrong and how to fix it."""


class RagError(ValueError):
    """Bad RAG input or state: no documents, not a Chroma store, an unreachable server, ..."""
