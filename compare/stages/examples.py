"""The examples stage: for every held-out question, the training pairs whose questions are nearest
to it, as demonstrations for the prompting arms (`fewshot`, and `rag` with `prompting.rag_examples`).

Nearest by the embedder retrieval uses (all-MiniLM-L6-v2, cosine), as in-context example
selection by similarity does (Liu et al. 2022, "What Makes Good In-Context Examples for GPT-3?",
arXiv:2101.06804). Never the question itself: a training pair whose question equals the held-out
question after normalisation (a duplicate row on both sides of the split) is passed over, so a
demonstration cannot hand the arm its answer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from compare import files
from compare.metrics import normalize_answer
from compare.records import Examples, QuestionExamples, Split

if TYPE_CHECKING:
    from compare.pipeline import Pipeline


def nearest_examples(questions: list[str], pool: list[str], k: int) -> tuple[list[list[tuple[int, float]]], int]:
    """Per question, up to k (pool index, cosine) pairs, nearest first, and how many pool entries
    were passed over for being the question itself."""
    import torch

    from lm.embeddings import embed

    if not pool:
        return [[] for _ in questions], 0
    scores = torch.tensor(embed(questions)) @ torch.tensor(embed(pool)).T  # unit vectors: cosine
    same = {}
    for i, pooled in enumerate(pool):
        same.setdefault(normalize_answer(pooled), []).append(i)
    picked, skipped = [], 0
    for row, question in enumerate(questions):
        itself = same.get(normalize_answer(question), [])
        skipped += len(itself)
        scores[row, itself] = float("-inf")
        top = torch.topk(scores[row], min(k, len(pool) - len(itself)))
        picked.append([(int(i), round(float(score), 4)) for score, i in zip(top.values, top.indices, strict=True)])
    return picked, skipped


def run(pipeline: Pipeline) -> None:
    """examples.json: the demonstrations of every held-out question."""
    from lm.embeddings import EMBEDDING_MODEL_NAME

    spec, split = pipeline.spec, pipeline.read(files.SPLIT, Split)
    k = max(spec.examples_for(arm) for arm in spec.arms)
    picked, skipped = nearest_examples([row.question for row in split.eval], [row.question for row in split.train], k)
    pipeline.write(files.EXAMPLES, Examples(
        k=k, embedder=EMBEDDING_MODEL_NAME, skipped_same_question=skipped,
        questions=[QuestionExamples(id=row.id, train_ids=[i for i, _ in found],
                                    similarity=[similarity for _, similarity in found])
                   for row, found in zip(split.eval, picked, strict=True)]))
    pipeline.log(f"examples: {k} demonstrations per held-out question from {len(split.train)} training pairs"
                 + (f" ({skipped} passed over: the question itself)" if skipped else ""))
