"""The plain-transformers MiniLM gives sentence-transformers' vectors (parity with a reference)."""
from __future__ import annotations

import numpy as np
import pytest

from lm.embeddings import EMBEDDING_DIM, embed

TEXTS = ["How long does a refund take?", "CREATE TABLE public.restaurant (\n id bigint,\n name text\n);",
         "word " * 400, "Paris is the capital of France."]
# First six dimensions from sentence-transformers 6.2.0 `SentenceTransformer(<package model>)
# .encode(TEXTS, normalize_embeddings=True)` on CPU in fp32 (the third text is cut at 256 tokens).
REFERENCE = [[-0.04625, -0.01525, 0.03848, 0.02283, 0.03071, -0.07489],
             [0.12314, 0.07348, -0.051, 0.04604, -0.12069, 0.03301],
             [-0.00812, -0.09559, -0.03867, 0.04966, -0.04379, 0.02372],
             [0.1007, 0.03715, 0.02823, -0.04167, 0.06719, -0.04774]]


def test_matches_sentence_transformers_reference():
    vectors = np.asarray(embed(TEXTS, dtype="float32"))
    assert vectors.shape == (4, EMBEDDING_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[:, :6], REFERENCE, atol=2e-4)


@pytest.mark.slow  # embeds in two dtypes (~5 s)
def test_bf16_stays_close_to_fp32_and_progress_is_reported():
    seen = []
    texts = TEXTS + ["Another sentence.", "And one more, a little longer than the last."]
    bf16 = np.asarray(embed(texts, dtype="bfloat16", batch_size=4, on_progress=lambda d, t: seen.append((d, t))))
    fp32 = np.asarray(embed(texts, dtype="float32"))
    assert (bf16 * fp32).sum(axis=1).min() > 0.999
    assert seen == [(4, 6), (6, 6)]
