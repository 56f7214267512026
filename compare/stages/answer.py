"""The answering stages: every held-out question through one arm, several at once, then a few
again one at a time for the single-request latency.

Three steps: `build_prompts` (what the arm sends for each question: the question, its passages,
its demonstrations, fitted to the model's context), `answer_batch` (one `generate()` call for a
batch of questions, an `AnswerRecord` each), and `run`, which loads the arm's model, answers the
questions it has no answer for yet batch by batch, and times the latency sample.

Batches: `generation.batch_size` questions per `generate()` call, left-padded (lm.generate);
greedy answers equal the one-at-a-time answers (tested there), so batching changes the speed and
not the evidence. Each answer records the wall time of the call that produced it and the batch
size: a batch of 8 that took 4 s costs 0.5 s of machine time per answer, and each of its users
waited 4 s.

Single-request latency: the first `generation.latency_sample` questions are answered again alone
(after the batches, untimed warm-up first); answers/<arm>.latency.json holds those timings and
how many of those answers equal the batched ones.

Progress goes batch by batch to answers/<arm>.partial.jsonl, so a resumed run starts at the first
unanswered question; the file is renamed when the arm is done.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from compare import files
from compare.adapters import adapter_for
from compare.arms import Generator, arm_prompt, uses_adapter, uses_retrieval, with_examples
from compare.errors import CompareError
from compare.finetune_setup import training_target
from compare.records import AnswerRecord, Examples, LatencySample, Retrieval, Split, TrainRecord
from runs import read_jsonl, write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline
    from compare.spec import CompareSpec, GenerationSettings

Prompt = str | list[dict[str, str]]  # a user turn, or a conversation ending in one (with demonstrations)


def run(pipeline: Pipeline, arm: str) -> None:
    """answers/<arm>.jsonl (one AnswerRecord per held-out question) and answers/<arm>.latency.json."""
    from transformers import set_seed

    spec, split = pipeline.spec, pipeline.read(files.SPLIT, Split)
    settings = spec.generation
    partial = pipeline.path(files.partial_answers(arm))
    partial.parent.mkdir(parents=True, exist_ok=True)
    answered = {row["id"]: row for row in read_jsonl(partial)}
    write_atomic(partial, "".join(json.dumps(row) + "\n" for row in answered.values()))  # drop a line cut by a crash
    generator = _generator(pipeline, arm)
    try:
        max_prompt = _prompt_budget(generator, spec)
        prompts = build_prompts(pipeline, arm, generator.tokenizer, max_prompt)
        generator.warm_up(settings)
        set_seed(spec.seed)
        pending = [row.id for row in split.eval if row.id not in answered]
        with partial.open("a") as out:
            for start in range(0, len(pending), settings.batch_size):
                pipeline.check_cancel()
                ids = pending[start:start + settings.batch_size]
                for record in answer_batch(generator, {i: prompts[i] for i in ids}, settings, max_prompt):
                    answered[record.id] = record.model_dump()
                    out.write(record.model_dump_json() + "\n")
                out.flush()
                pipeline.progress(len(answered), len(split.eval))
        pipeline.check_cancel()
        sample_ids = [row.id for row in split.eval[:settings.latency_sample]]
        sample = _latency_sample(generator, settings, max_prompt, sample_ids, prompts, answered)
        write_atomic(pipeline.path(files.latency(arm)), sample.model_dump_json(indent=2))
    finally:
        generator.close()
    partial.replace(pipeline.path(files.answers(arm)))


def build_prompts(pipeline: Pipeline, arm: str, tokenizer: Any, max_prompt: int | None) -> dict[int, Prompt]:
    """Held-out question id -> what `arm` sends for it: the question, or the RAG prompt around its
    retrieved passages, after its demonstrations when the arm gets some; fitted to `max_prompt`
    tokens (None: no limit)."""
    spec, split = pipeline.spec, pipeline.read(files.SPLIT, Split)
    hits = _hits_by_id(pipeline) if uses_retrieval(arm) else {}
    prompts: dict[int, Prompt] = {row.id: arm_prompt(arm, row.question, hits.get(row.id, []), tokenizer, max_prompt)
                                  for row in split.eval}
    if spec.examples_for(arm):
        demonstrations = _demonstrations(pipeline, split, spec.examples_for(arm))
        prompts = {i: with_examples(prompt, demonstrations[i], tokenizer, max_prompt, spec.generation.system_prompt)
                   for i, prompt in prompts.items()}
    return prompts


def answer_batch(generator: Generator, prompts: dict[int, Prompt], settings: GenerationSettings,
                 max_prompt: int | None) -> list[AnswerRecord]:
    """The questions `prompts` holds (id -> prompt) answered by one `generate()` call, in order."""
    generations = generator.generate(list(prompts.values()), settings, max_prompt_tokens=max_prompt)
    return [AnswerRecord(id=i, answer=generation.text, latency_s=generation.latency_s,
                         batch_size=generation.batch_size, prompt_tokens=generation.prompt_tokens,
                         new_tokens=generation.completion_tokens)
            for i, generation in zip(prompts, generations, strict=True)]


def _latency_sample(generator: Generator, settings: GenerationSettings, max_prompt: int | None, ids: list[int],
                    prompts: dict[int, Prompt], answered: dict[int, dict]) -> LatencySample:
    """The questions `ids` answered alone, one `generate()` call each, timed."""
    alone = [answer_batch(generator, {i: prompts[i]}, settings, max_prompt)[0] for i in ids]
    return LatencySample(questions=len(ids), latencies_s=[record.latency_s for record in alone],
                         prompt_tokens=[record.prompt_tokens for record in alone],
                         new_tokens=[record.new_tokens for record in alone],
                         same_as_batched=sum(record.answer == answered[record.id]["answer"] for record in alone),
                         greedy=settings.greedy)


def _prompt_budget(generator: Generator, spec: CompareSpec) -> int | None:
    """Tokens a prompt may take: the context less the answer and the system prompt."""
    limit = generator.context_limit()
    if not limit:
        return None
    max_prompt = limit - spec.generation.max_new_tokens - _system_tokens(generator, spec)
    if max_prompt < 16:
        raise CompareError(f"max_new_tokens={spec.generation.max_new_tokens} leaves no room for a prompt in "
                           f"the model's context ({limit} tokens)")
    return max_prompt


def _system_tokens(generator: Generator, spec: CompareSpec) -> int:
    prompt = spec.generation.system_prompt
    return len(generator.tokenizer(prompt, add_special_tokens=False)["input_ids"]) + 8 if prompt else 0


def _demonstrations(pipeline: Pipeline, split: Split, k: int) -> dict[int, list[tuple[str, str]]]:
    """Held-out question id -> its k nearest training pairs (question, the answer an adapter would
    learn), nearest first (examples.json)."""
    picked = pipeline.read(files.EXAMPLES, Examples).by_id()
    return {row.id: [(split.train[i].question, training_target(pipeline.spec, split.train[i].reference))
                     for i in picked[row.id].train_ids[:k]] for row in split.eval}


def _hits_by_id(pipeline: Pipeline) -> dict[int, list]:
    return {question.id: question.hits for question in pipeline.read(files.RETRIEVAL, Retrieval).questions}


def _trained(pipeline: Pipeline, arm: str) -> TrainRecord:
    """The record of the adapter that answers for a fine-tuned arm."""
    return pipeline.read(adapter_for(pipeline.spec, arm).record_file, TrainRecord)


def _generator(pipeline: Pipeline, arm: str) -> Generator:
    """The base in its usual precision for base/rag; for the fine-tuned arms the tuning run
    (its adapter on the base it was trained on: 4-bit NF4 for QLoRA)."""
    return Generator(_trained(pipeline, arm).run_dir if uses_adapter(arm) else pipeline.spec.model)
