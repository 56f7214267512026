"""The answering stages: every held-out question through one arm, several at once, then a few
again one at a time for the single-request latency.

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
from typing import TYPE_CHECKING

from compare import files
from compare.adapters import adapter_for
from compare.arms import Generator, arm_prompt, uses_adapter, uses_retrieval, with_examples
from compare.errors import CompareError
from compare.finetune_setup import training_target
from compare.records import AnswerRecord, Examples, LatencySample, Retrieval, Split, TrainRecord
from runs import read_jsonl, write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline


def run(p: Pipeline, arm: str) -> None:
    """answers/<arm>.jsonl (one AnswerRecord per held-out question) and answers/<arm>.latency.json."""
    from transformers import set_seed

    spec, split = p.spec, p.read(files.SPLIT, Split)
    settings = spec.generation
    final = p.path(files.answers(arm))
    partial = p.path(files.partial_answers(arm))
    partial.parent.mkdir(parents=True, exist_ok=True)
    answered = {row["id"]: row for row in read_jsonl(partial)}
    write_atomic(partial, "".join(json.dumps(r) + "\n" for r in answered.values()))  # drop a line cut by a crash
    hits = _hits_by_id(p) if uses_retrieval(arm) else {}
    generator = _generator(p, arm)
    try:
        max_prompt = _prompt_budget(generator, spec)
        prompts = {row.id: arm_prompt(arm, row.question, hits.get(row.id, []), generator.tokenizer, max_prompt)
                   for row in split.eval}
        if spec.examples_for(arm):
            demos = _demonstrations(p, split, spec.examples_for(arm))
            prompts = {i: with_examples(prompt, demos[i], generator.tokenizer, max_prompt, settings.system_prompt)
                       for i, prompt in prompts.items()}
        generator.warm_up(settings)
        set_seed(spec.seed)
        pending = [row.id for row in split.eval if row.id not in answered]
        with partial.open("a") as out:
            for start in range(0, len(pending), settings.batch_size):
                p.check_cancel()
                ids = pending[start:start + settings.batch_size]
                batch = generator.generate([prompts[i] for i in ids], settings, max_prompt_tokens=max_prompt)
                for i, g in zip(ids, batch):
                    record = AnswerRecord(id=i, answer=g.text, latency_s=g.latency_s, batch_size=g.batch_size,
                                          prompt_tokens=g.prompt_tokens, new_tokens=g.completion_tokens)
                    answered[i] = record.model_dump()
                    out.write(record.model_dump_json() + "\n")
                out.flush()
                p.progress(len(answered), len(split.eval))
        p.check_cancel()
        sample_ids = [row.id for row in split.eval[:settings.latency_sample]]
        write_atomic(p.path(files.latency(arm)), _latency_sample(generator, settings, max_prompt, sample_ids,
                                                                     prompts, answered).model_dump_json(indent=2))
    finally:
        generator.close()
    partial.replace(final)


def _latency_sample(generator: Generator, settings, max_prompt: int | None, ids: list[int],
                    prompts: dict[int, str], answered: dict[int, dict]) -> LatencySample:
    """The questions `ids` answered alone, one `generate()` call each, timed."""
    latencies, prompt_tokens, new_tokens, same = [], [], [], 0
    for i in ids:
        g = generator.generate([prompts[i]], settings, max_prompt_tokens=max_prompt)[0]
        latencies.append(g.latency_s)
        prompt_tokens.append(g.prompt_tokens)
        new_tokens.append(g.completion_tokens)
        same += g.text == answered[i]["answer"]
    return LatencySample(questions=len(ids), latencies_s=latencies, prompt_tokens=prompt_tokens,
                         new_tokens=new_tokens, same_as_batched=same, greedy=settings.greedy)


def _prompt_budget(generator: Generator, spec) -> int | None:
    """Tokens a prompt may take: the context less the answer and the system prompt."""
    limit = generator.context_limit()
    if not limit:
        return None
    max_prompt = limit - spec.generation.max_new_tokens - _system_tokens(generator, spec)
    if max_prompt < 16:
        raise CompareError(f"max_new_tokens={spec.generation.max_new_tokens} leaves no room for a prompt in "
                           f"the model's context ({limit} tokens)")
    return max_prompt


def _system_tokens(generator: Generator, spec) -> int:
    prompt = spec.generation.system_prompt
    return len(generator.tokenizer(prompt, add_special_tokens=False)["input_ids"]) + 8 if prompt else 0


def _demonstrations(p: Pipeline, split: Split, k: int) -> dict[int, list[tuple[str, str]]]:
    """Held-out question id -> its k nearest training pairs (question, the answer an adapter would
    learn), nearest first (examples.json)."""
    picked = p.read(files.EXAMPLES, Examples).by_id()
    return {row.id: [(split.train[i].question, training_target(p.spec, split.train[i].reference))
                     for i in picked[row.id].train_ids[:k]] for row in split.eval}


def _hits_by_id(p: Pipeline) -> dict[int, list]:
    return {q.id: q.hits for q in p.read(files.RETRIEVAL, Retrieval).questions}


def trained(p: Pipeline, arm: str) -> TrainRecord:
    """The record of the adapter that answers for a fine-tuned arm."""
    return p.read(adapter_for(p.spec, arm).record_file, TrainRecord)


def _generator(p: Pipeline, arm: str) -> Generator:
    """The base in its usual precision for base/rag; for the fine-tuned arms the tuning run
    (its adapter on the base it was trained on: 4-bit NF4 for QLoRA)."""
    return Generator(trained(p, arm).run_dir if uses_adapter(arm) else p.spec.model)
