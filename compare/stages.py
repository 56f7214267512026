"""The data stages of the pipeline: split, index (+ retrieval for every held-out question) and the
forgetting check. Answering is `compare.answering`, training `compare.training`, costs and
results `compare.cost_stage` and `compare.results_stage`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from compare.errors import CompareError
from compare.finetune_setup import training_target
from compare.metrics import contains_answer, hit_at_k, perplexity
from compare.records import EvalItem, Forgetting, Forgettings, QuestionHits, Retrieval, Split, TrainItem, TrainRecord
from runs import write_atomic
if TYPE_CHECKING:
    from compare.pipeline import Pipeline

STORE_DIR, COLLECTION = "store", "compare"
KNOWLEDGE_BASE = "kb/training_answers.md"
GENERAL_TEXT = Path(__file__).with_name("general_text.txt")


# ---------------------------------------------------------------- split


def split_stage(p: Pipeline) -> None:
    """One seeded split shared by every arm: split.json (train + held-out rows)."""
    from tuning.data.load import load_examples
    from tuning.data.split import split_examples

    spec = p.spec
    loaded = load_examples(spec.data, spec.mapping, kind="sft")
    errors = [pr for pr in loaded.problems if pr.severity == "error"]
    if errors or not loaded.examples:
        lines = "; ".join(str(pr) for pr in errors[:5]) or "no examples"
        raise CompareError(f"the dataset cannot be used: {lines}")
    train, held = split_examples(loaded.examples, spec.eval_fraction, spec.seed)
    if spec.eval_count is not None:
        held = held[: spec.eval_count]
    if not held:
        raise CompareError(f"no held-out questions: {len(loaded.examples)} examples at eval_fraction {spec.eval_fraction}")
    if spec.needs_training and not train:
        raise CompareError("no training examples left after the split: lower eval_fraction")
    relevant = _relevant_by_line(spec) if spec.relevant_field else {}
    eval_items = []
    for i, ex in enumerate(held):
        question, reference, system = question_and_reference(ex)
        eval_items.append(EvalItem(id=i, question=question, reference=reference, system=system,
                                   relevant=relevant.get(ex.source_line), source_line=ex.source_line))
    train_items = []
    for ex in train:
        question, reference, system = question_and_reference(ex)
        train_items.append(TrainItem(question=question, reference=reference, system=system, source_line=ex.source_line))
    p.write("split.json", Split(shape=loaded.shape, total=len(loaded.examples), train=train_items, eval=eval_items))
    p.log(f"split: {len(train_items)} train, {len(eval_items)} held-out (seed {spec.seed})")


def question_and_reference(example: Any) -> tuple[str, str, str | None]:
    """(question, reference answer, system prompt) of an SFT example: prompt/completion, or a
    chat whose last assistant turn is the answer and the user turn before it the question."""
    if example.messages is None:
        return example.prompt, example.completion, example.system
    messages = list(example.messages)
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=None)
    if last is None:
        raise CompareError(f"line {example.source_line}: a chat with no assistant turn has no reference answer")
    users = [m.content for m in messages[:last] if m.role == "user"]
    system = next((m.content for m in messages if m.role == "system"), None)
    return (users[-1] if users else ""), messages[last].content, system


def _relevant_by_line(spec) -> dict[int, str]:
    """source line -> the value of `relevant_field` (the document that answers that row)."""
    from tuning.data.readers import read_records

    raw = read_records(spec.data)
    if spec.relevant_field not in raw.columns():
        raise CompareError(
            f"relevant_field: no column {spec.relevant_field!r} in {spec.data.name} (columns: {', '.join(raw.columns())})"
        )
    return {line: str(rec.get(spec.relevant_field, "")) for line, rec in raw.rows if isinstance(rec, dict)}


# ---------------------------------------------------------------- index + retrieval


def index_stage(p: Pipeline) -> None:
    """Index the documents (or the training answers) in a Chroma store inside the run folder,
    then retrieve the top-k passages for every held-out question once: both retrieval arms use
    the same passages. Writes retrieval.json (hits, hit@k per question, index figures)."""
    from rag_baseline import StoreConfig, index_documents, search

    spec, split = p.spec, p.read("split.json", Split)
    store = StoreConfig(path=p.path(STORE_DIR), collection=COLLECTION)
    docs = spec.docs or [_write_knowledge_base(p, split.train)]
    report = index_documents(docs, store=store, chunk_size=spec.rag.chunk_size, chunk_overlap=spec.rag.chunk_overlap,
                             on_progress=lambda done, total: p.progress(done, total))
    p.log(report.summary())
    p.check_cancel()
    hits = search([row.question for row in split.eval], store, k=spec.rag.k, mmr=spec.rag.mmr)
    train_hits = search([row.question for row in split.train], store, k=spec.rag.k, mmr=spec.rag.mmr) \
        if spec.trains_on_retrieval and split.train else []
    k = spec.rag.k
    if spec.relevant_field:
        _warn_unmatched(p, split.eval, hits)
    p.write("retrieval.json", Retrieval(
        k=k, hit_definition=hit_definition(spec), documents=[str(d) for d in docs],
        index_seconds=report.seconds, chunks=report.chunks_total, skipped=report.files_skipped,
        questions=[QuestionHits(id=row.id, hit=_hit(spec, row, found, k), hits=found)
                   for row, found in zip(split.eval, hits)],
        train_questions=[QuestionHits(id=i, hit=contains_answer([h.text for h in found], row.reference, k), hits=found)
                         for i, (row, found) in enumerate(zip(split.train, train_hits))],
    ))


def hit_definition(spec) -> str:
    if spec.relevant_field:
        return (f"one of the top {spec.rag.k} passages comes from the document named in the "
                f"'{spec.relevant_field}' column (file name without extension)")
    return f"one of the top {spec.rag.k} passages contains the reference answer (after normalisation)"


def _hit(spec, row: EvalItem, found: list, k: int) -> float:
    if spec.relevant_field:
        relevant = Path(row.relevant or "").stem  # "academic" or "academic.sql" -> "academic"
        return hit_at_k([Path(h.source).stem for h in found], {relevant}, k)
    return contains_answer([h.text for h in found], row.reference, k)


def _warn_unmatched(p: Pipeline, eval_rows: list[EvalItem], hits: list[list]) -> None:
    """Say so when the relevant column names documents the index does not hold (hit@k would be 0)."""
    sources = {Path(h.source).stem for found in hits for h in found}
    wanted = {Path(row.relevant or "").stem for row in eval_rows}
    missing = sorted(w for w in wanted - sources if w)
    if missing:
        p.log(f"index: warning: '{p.spec.relevant_field}' names documents never retrieved (or not indexed): "
              f"{', '.join(missing[:10])}; hit@k matches them by file name without extension")


def _write_knowledge_base(p: Pipeline, train_rows: list[TrainItem]) -> Path:
    """No documents given: the training pairs become the knowledge base, one heading (the
    question) per answer, so each pair is its own chunk."""
    parts = []
    for row in train_rows:
        heading = " ".join(row.question.split())[:300] or "question"
        parts.append(f"## {heading}\n\n{training_target(p.spec, row.reference).strip()}\n")
    return write_atomic(p.path(KNOWLEDGE_BASE), "\n".join(parts))


# ---------------------------------------------------------------- forgetting


def general_texts(spec) -> list[str]:
    """Paragraphs of general text (the spec's file, else the built-in one)."""
    path = spec.forgetting_text or GENERAL_TEXT
    paragraphs = [t.strip() for t in path.read_text(encoding="utf-8").split("\n\n") if t.strip()]
    if not paragraphs:
        raise CompareError(f"forgetting_text: {path} holds no text")
    return paragraphs


def forgetting_stage(p: Pipeline) -> None:
    """Perplexity on general text of the base (adapter disabled) and of each fine-tuned adapter
    (adapter on), on the same loaded weights: a rise means the adapter eroded general skills."""
    from compare.arms import Generator
    from compare.finetune_setup import adapters

    spec = p.spec
    texts = general_texts(spec)
    found = {}
    for n, adapter in enumerate(adapters(spec), start=1):
        train = p.read(adapter.record_file, TrainRecord)
        generator = Generator(train.run_dir)
        max_length = min(generator.context_limit() or 512, 1024)
        try:
            with generator.model.disable_adapter():
                before = perplexity(generator.model, generator.tokenizer, texts, max_length=max_length)
            after = perplexity(generator.model, generator.tokenizer, texts, max_length=max_length)
        finally:
            generator.close()
        found[adapter.name] = Forgetting(
            perplexity_before=before, perplexity_after=after, change_pct=(after - before) / before * 100,
            texts=len(texts), source=str(spec.forgetting_text or "built-in general text (compare/general_text.txt)"),
            base_precision="nf4" if train.method == "qlora" else "none")
        p.progress(n, len(adapters(spec)), force=True)
    p.write("forgetting.json", Forgettings(adapters=found))
