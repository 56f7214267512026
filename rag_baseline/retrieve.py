"""Retrieval: top-k chunks with cosine scores and sources, optional maximal marginal relevance
(Carbonell & Goldstein 1998), and a relevance threshold."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rag_baseline.errors import RagError
from rag_baseline.schemas import SearchHit, StoreConfig
from rag_baseline.store import open_collection

if TYPE_CHECKING:
    import numpy as np

DEFAULT_K = 4
MAX_K = 100
MMR_LAMBDA = 0.5  # weight of relevance vs. novelty (1.0 = plain top-k)
MMR_FETCH_FACTOR = 4  # MMR re-ranks this many times k candidates


def mmr_order(query: np.ndarray, candidates: np.ndarray, k: int, lam: float = MMR_LAMBDA) -> list[int]:
    """Indices of k candidates, each maximising lam*sim(q, d) - (1-lam)*max sim(d, chosen).
    Vectors are unit-normalised, so dot products are cosines."""
    import numpy as np  # lazily: `ftadvisor --help` reads DEFAULT_K from this module

    relevance = candidates @ query
    chosen: list[int] = []
    redundancy = np.full(len(candidates), -np.inf)
    for _ in range(min(k, len(candidates))):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        scores = lam * relevance - (1 - lam) * penalty
        scores[chosen] = -np.inf
        best = int(np.argmax(scores))
        chosen.append(best)
        redundancy = np.maximum(redundancy, candidates @ candidates[best])
    return chosen


def search(
    questions: list[str],
    store: StoreConfig,
    k: int = DEFAULT_K,
    mmr: bool = False,
    min_score: float | None = None,
) -> list[list[SearchHit]]:
    """For each question its ranked hits (best first), at most k, none below `min_score`."""
    import numpy as np

    from lm.embeddings import embed

    if isinstance(questions, str):
        questions = [questions]
    if not 1 <= k <= MAX_K:
        raise RagError(f"k must be between 1 and {MAX_K}, got {k}")
    if min_score is not None and not -1.0 <= min_score <= 1.0:
        raise RagError(f"min_score is a cosine similarity between -1 and 1, got {min_score}")
    if not questions or any(not q.strip() for q in questions):
        raise RagError("every question must have some text")
    collection = open_collection(store)
    total = collection.count()
    if total == 0:
        return [[] for _ in questions]
    query_vectors = embed(list(questions))
    n_results = min(total, k * MMR_FETCH_FACTOR if mmr else k)
    include = ["documents", "metadatas", "distances"] + (["embeddings"] if mmr else [])
    result = collection.query(query_embeddings=query_vectors, n_results=n_results, include=include)
    hits_per_question = []
    for qi, query in enumerate(query_vectors):
        scores = [1.0 - d for d in result["distances"][qi]]  # cosine distance = 1 - cosine
        keep = [i for i, s in enumerate(scores) if min_score is None or s >= min_score]
        if mmr and keep:
            emb = np.asarray(result["embeddings"][qi], dtype=np.float32)[keep]
            keep = [keep[i] for i in mmr_order(np.asarray(query, dtype=np.float32), emb, k)]
        hits = []
        for rank, i in enumerate(keep[:k], start=1):
            meta = result["metadatas"][qi][i] or {}
            hits.append(SearchHit(rank=rank, score=round(scores[i], 6), source=meta.get("source", ""),
                                  text=result["documents"][qi][i], position=int(meta.get("position", 0)),
                                  section=meta.get("section", ""), id=result["ids"][qi][i]))
        hits_per_question.append(hits)
    return hits_per_question
