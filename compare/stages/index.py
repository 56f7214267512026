"""The index stage: the documents (or, with none, the training answers) in a Chroma store inside the
run folder, and the top-k passages of every held-out question retrieved once, so both retrieval
arms (and the hybrid's training rows) use the same passages (retrieval.json: hits, hit@k per
question, index figures)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from compare import files
from compare.adapters import trains_on_retrieval
from compare.finetune_setup import training_target
from compare.metrics import contains_answer, is_relevant_passage
from compare.records import EvalItem, QuestionHits, Retrieval, Split, TrainItem
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline
    from compare.spec import CompareSpec

COLLECTION = "compare"


def run(pipeline: Pipeline) -> None:
    """Index, then retrieve for every held-out question (and every training question when an
    adapter trains on retrieval prompts)."""
    from rag_baseline import StoreConfig, index_documents, search

    spec, split = pipeline.spec, pipeline.read(files.SPLIT, Split)
    store = StoreConfig(path=pipeline.path(files.STORE), collection=COLLECTION)
    docs = spec.docs or [_write_knowledge_base(pipeline, split.train)]
    report = index_documents(docs, store=store, chunk_size=spec.rag.chunk_size, chunk_overlap=spec.rag.chunk_overlap,
                             on_progress=lambda done, total: pipeline.progress(done, total))
    pipeline.log(report.summary())
    pipeline.check_cancel()
    k = spec.rag.k
    hits = search([row.question for row in split.eval], store, k=k, mmr=spec.rag.mmr)
    train_questions = []
    if trains_on_retrieval(spec) and split.train:
        train_hits = search([row.question for row in split.train], store, k=k, mmr=spec.rag.mmr)
        train_questions = [QuestionHits(id=i, hit=contains_answer([hit.text for hit in found], row.reference, k),
                                        hits=found)
                           for i, (row, found) in enumerate(zip(split.train, train_hits, strict=True))]
    if spec.relevant_field:
        _warn_unmatched(pipeline, split.eval, hits)
    pipeline.write(files.RETRIEVAL, Retrieval(
        k=k, hit_definition=hit_definition(spec), documents=[str(doc) for doc in docs],
        index_seconds=report.seconds, chunks=report.chunks_total, skipped=report.files_skipped,
        questions=[QuestionHits(id=row.id, hit=_hit(spec, row, found, k), hits=found)
                   for row, found in zip(split.eval, hits, strict=True)],
        train_questions=train_questions,
    ))


def hit_definition(spec: CompareSpec) -> str:
    if spec.relevant_field:
        return (f"one of the top {spec.rag.k} passages comes from the document named in the "
                f"'{spec.relevant_field}' column (file name without extension)")
    return f"one of the top {spec.rag.k} passages contains the reference answer (after normalisation)"


def _hit(spec: CompareSpec, row: EvalItem, found: list, k: int) -> float:
    relevant = (row.relevant or "") if spec.relevant_field else None  # "": a row naming none hits nothing
    return float(any(is_relevant_passage(hit.source, hit.text, row.reference, relevant) for hit in found[:k]))


def _warn_unmatched(pipeline: Pipeline, eval_rows: list[EvalItem], hits: list[list]) -> None:
    """Say so when the relevant column names documents the index does not hold (hit@k would be 0)."""
    sources = {Path(hit.source).stem for found in hits for hit in found}
    wanted = {Path(row.relevant or "").stem for row in eval_rows}
    missing = sorted(name for name in wanted - sources if name)
    if missing:
        pipeline.log(f"index: warning: '{pipeline.spec.relevant_field}' names documents never retrieved (or not "
                     f"indexed): {', '.join(missing[:10])}; hit@k matches them by file name without extension")


def _write_knowledge_base(pipeline: Pipeline, train_rows: list[TrainItem]) -> Path:
    """No documents given: the training pairs become the knowledge base, one heading (the
    question) per answer, so each pair is its own chunk."""
    parts = []
    for row in train_rows:
        heading = " ".join(row.question.split())[:300] or "question"
        parts.append(f"## {heading}\n\n{training_target(pipeline.spec, row.reference).strip()}\n")
    return write_atomic(pipeline.path(files.KNOWLEDGE_BASE), "\n".join(parts))
