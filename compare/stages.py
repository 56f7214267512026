"""The data stages of the pipeline: split, index (+ retrieval for every held-out question), the
answering stages of the four arms, and the forgetting check. Training is `compare.training`,
costs and results are `compare.summarize`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compare.arms import Generator, arm_prompt, uses_adapter, uses_retrieval
from compare.errors import CompareError
from compare.files import stage_output
from compare.metrics import contains_answer, hit_at_k, perplexity
from compare.records import AnswerRecord, EvalItem, Forgetting, QuestionHits, Retrieval, Split, TrainItem, TrainRecord
from runs import read_jsonl, write_atomic
if TYPE_CHECKING:
    from compare.pipeline import Pipeline

STORE_DIR, COLLECTION = "store", "compare"
TRAIN_DATA = "train_data.jsonl"
KNOWLEDGE_BASE = "kb/training_answers.md"
GENERAL_TEXT = Path(__file__).with_name("general_text.txt")


# ---------------------------------------------------------------- split


def split_stage(p: Pipeline) -> None:
    """One seeded split shared by every arm: split.json (train + held-out rows) and the
    training file of the fine-tune sub-run."""
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
    _write_training_file(p, train_items)
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


def _write_training_file(p: Pipeline, rows: list[TrainItem]) -> None:
    """The training split in a shape the tuning backend recognises: chat messages when there is
    a system prompt (the spec's, else the example's), else prompt/completion."""
    system_prompt = p.spec.generation.system_prompt
    lines = []
    for row in rows:
        system = system_prompt or row.system
        if system:
            record = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": row.question},
                                   {"role": "assistant", "content": row.reference}]}
        else:
            record = {"prompt": row.question, "completion": row.reference}
        lines.append(json.dumps(record))
    write_atomic(p.path(TRAIN_DATA), "\n".join(lines) + "\n")


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
    k = spec.rag.k
    if spec.relevant_field:
        _warn_unmatched(p, split.eval, hits)
    p.write("retrieval.json", Retrieval(
        k=k, hit_definition=hit_definition(spec), documents=[str(d) for d in docs],
        index_seconds=report.seconds, chunks=report.chunks_total, skipped=report.files_skipped,
        questions=[QuestionHits(id=row.id, hit=_hit(spec, row, found, k), hits=found)
                   for row, found in zip(split.eval, hits)],
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
        parts.append(f"## {heading}\n\n{row.reference.strip()}\n")
    return write_atomic(p.path(KNOWLEDGE_BASE), "\n".join(parts))


# ---------------------------------------------------------------- answering


def answer_stage(p: Pipeline, arm: str) -> None:
    """Every held-out question through one arm, one at a time; answers/<arm>.jsonl.

    Progress goes line by line to answers/<arm>.partial.jsonl, so a resumed run starts at the
    first unanswered question; the file is renamed when the arm is done."""
    from transformers import set_seed

    spec, split = p.spec, p.read("split.json", Split)
    final = stage_output(p.run_dir, arm)
    partial = final.with_name(f"{arm}.partial.jsonl")
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = {row["id"] for row in read_jsonl(partial)}
    _rewrite_complete_lines(partial)
    hits = _hits_by_id(p) if uses_retrieval(arm) else {}
    generator = _generator(p, arm)
    limit = generator.context_limit()
    max_prompt = limit - spec.generation.max_new_tokens - _system_tokens(generator, spec) if limit else None
    if max_prompt is not None and max_prompt < 16:
        raise CompareError(f"max_new_tokens={spec.generation.max_new_tokens} leaves no room for a prompt in "
                           f"the model's context ({limit} tokens)")
    generator.warm_up(spec.generation)
    set_seed(spec.seed)
    total = len(split.eval)
    try:
        with partial.open("a") as out:
            for n, row in enumerate(split.eval, start=1):
                if row.id in done:
                    continue
                p.check_cancel()
                prompt = arm_prompt(arm, row.question, hits.get(row.id, []), generator.tokenizer, max_prompt)
                g = generator.generate(prompt, spec.generation, max_prompt_tokens=max_prompt)
                record = AnswerRecord(id=row.id, answer=g.text, latency_s=g.latency_s,
                                      prompt_tokens=g.prompt_tokens, new_tokens=g.completion_tokens)
                out.write(record.model_dump_json() + "\n")
                out.flush()
                p.progress(n, total)
    finally:
        generator.close()
    partial.replace(final)


def _system_tokens(generator: Generator, spec) -> int:
    prompt = spec.generation.system_prompt
    return len(generator.tokenizer(prompt, add_special_tokens=False)["input_ids"]) + 8 if prompt else 0


def _rewrite_complete_lines(path: Path) -> None:
    """Drop a half-written last line (a crash mid-write) before appending."""
    if path.exists():
        rows = read_jsonl(path)
        write_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))


def _hits_by_id(p: Pipeline) -> dict[int, list]:
    return {q.id: q.hits for q in p.read("retrieval.json", Retrieval).questions}


def train_dir(p: Pipeline) -> Path:
    return Path(p.read("train.json", TrainRecord).run_dir)


def _generator(p: Pipeline, arm: str) -> Generator:
    """The base in its usual precision for base/rag; for the fine-tuned arms the tuning run
    (its adapter on the base it was trained on: 4-bit NF4 for QLoRA)."""
    return Generator(train_dir(p) if uses_adapter(arm) else p.spec.model)


# ---------------------------------------------------------------- forgetting


def general_texts(spec) -> list[str]:
    """Paragraphs of general text (the spec's file, else the built-in one)."""
    path = spec.forgetting_text or GENERAL_TEXT
    paragraphs = [t.strip() for t in path.read_text(encoding="utf-8").split("\n\n") if t.strip()]
    if not paragraphs:
        raise CompareError(f"forgetting_text: {path} holds no text")
    return paragraphs


def forgetting_stage(p: Pipeline) -> None:
    """Perplexity on general text of the base (adapter disabled) and of the fine-tuned model
    (adapter on), on the same loaded weights: a rise means the adapter eroded general skills."""
    spec = p.spec
    texts = general_texts(spec)
    quant = "nf4" if spec.finetune.method == "qlora" else "none"
    generator = Generator(train_dir(p))
    max_length = min(generator.context_limit() or 512, 1024)
    try:
        with generator.model.disable_adapter():
            before = perplexity(generator.model, generator.tokenizer, texts, max_length=max_length)
        p.progress(1, 2, force=True)
        after = perplexity(generator.model, generator.tokenizer, texts, max_length=max_length)
        p.progress(2, 2, force=True)
    finally:
        generator.close()
    p.write("forgetting.json", Forgetting(
        perplexity_before=before, perplexity_after=after, change_pct=(after - before) / before * 100,
        texts=len(texts), source=str(spec.forgetting_text or "built-in general text (compare/general_text.txt)"),
        base_precision=quant,
    ))
