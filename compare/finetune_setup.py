"""What the fine-tune stages train (compare.adapters says which adapters): the method (`auto`
resolved by the device), each adapter's rows, written for its tuning sub-run, and that sub-run's
tuning JobSpec.

Prompts an adapter trains on:
- bare: the question alone, as the `finetuned` arm asks it;
- retrieval: the question with the passages retrieved for it, in the exact prompt the
  `finetuned_rag` arm sends (RAFT, Zhang et al. 2024, arXiv:2403.10131: train on the
  retrieval-augmented prompts the model will answer), with `train_passages` of the passages
  retrieval really returns: the oracle (from the relevant document, else stating the answer) and
  the best-ranked others as distractors, and a seeded `distractor_only_share` of rows without the
  oracle. Unlike RAFT we do not add an oracle retrieval missed nor chain-of-thought answers: the
  target is the dataset's reference answer;
- mix: both, one adapter for both fine-tuned arms.

Why `finetune.train_prompts` = separate (an adapter per fine-tuned arm) is the default: measured on
the fictional-facts set (docs/compare.md), the hybrid's token F1 was 0.14 with a bare-trained
adapter, 0.69 with a mixed one and 0.90 with its own retrieval-trained one at the same 30 steps,
and 0.75 with a mixed one at 60 steps (the compute of two adapters).
"""
from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from compare import files
from compare.adapters import Adapter
from compare.arms import arm_prompt
from compare.metrics import is_relevant_passage
from compare.records import Retrieval, Split, TrainItem
from compare.spec import PROMPT_STYLES
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline
    from compare.spec import CompareSpec
    from tuning.spec import JobSpec

# Tokens kept free in a training row beyond prompt + answer: the chat template's role markers and
# end-of-turn tokens (SmolLM2's ChatML: ~10 per turn), so trl never cuts the answer.
TEMPLATE_MARGIN_TOKENS = 32


def finetune_method(spec: CompareSpec) -> str:
    """The method the adapter trains with: the spec's, or for `auto` QLoRA on a CUDA GPU and LoRA on
    a CPU (bitsandbytes' CPU 4-bit matmul dequantizes every weight each step: slower, no memory win
    that matters on a machine with RAM to spare)."""
    if spec.finetune.method != "auto":
        return spec.finetune.method
    return "qlora" if _on_gpu() else "lora"


def epoch_steps(spec: CompareSpec, rows: int) -> int:
    """Optimizer steps the spec's epochs take over `rows` training rows."""
    return math.ceil(math.ceil(rows / spec.finetune.batch_size) * spec.finetune.epochs)


def step_limit(spec: CompareSpec, rows: int) -> tuple[int | None, int]:
    """(max_steps for the adapter's tuning run, the steps its epochs would take): the spec's
    max_steps, else on a CPU `cpu_step_budget` when the epochs would take more, else None."""
    finetune, full = spec.finetune, epoch_steps(spec, rows)
    if finetune.max_steps is not None:
        return finetune.max_steps, full
    if finetune.cpu_step_budget and full > finetune.cpu_step_budget and not _on_gpu():
        return finetune.cpu_step_budget, full
    return None, full


def _on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def job_spec(pipeline: Pipeline, adapter: Adapter) -> JobSpec:
    """The tuning JobSpec for the adapter's rows of the training split (no inner eval split: the
    held-out questions are the comparison's own)."""
    from tuning.spec import JobSpec

    spec, finetune = pipeline.spec, pipeline.spec.finetune
    max_steps, full = step_limit(spec, training_rows(pipeline, adapter))
    if max_steps is not None and finetune.max_steps is None:
        pipeline.log(f"{adapter.name}: a CPU budget of {max_steps} steps, of the {full} that {finetune.epochs:g} "
                     "epochs take (--cpu-step-budget 0 or --max-steps to change)")
    return JobSpec(
        model=spec.model,
        data=str(pipeline.path(adapter.data_file)),
        output=str(pipeline.path(adapter.name)),
        method=finetune_method(spec),
        lora_rank=finetune.lora_rank,
        lora_alpha=finetune.lora_alpha,
        lora_dropout=finetune.lora_dropout,
        learning_rate=finetune.learning_rate,
        epochs=finetune.epochs,
        max_steps=max_steps,
        batch_size=finetune.batch_size,
        max_seq_len=finetune.max_seq_len,
        seed=spec.seed,
        eval_fraction=0.0,
        near_dup_threshold=None,  # the split is done; duplicates were kept on one side there
    )


def training_rows(pipeline: Pipeline, adapter: Adapter) -> int:
    """Rows in the adapter's data file (`write_training_file`)."""
    return sum(1 for line in pipeline.path(adapter.data_file).read_text().splitlines() if line.strip())


def write_training_file(pipeline: Pipeline, adapter: Adapter) -> int:
    """The adapter's data file from split.json (and retrieval.json for retrieval prompts); returns
    the number of rows."""
    spec, split = pipeline.spec, pipeline.read(files.SPLIT, Split)
    styles = PROMPT_STYLES if adapter.prompts == "mix" else (adapter.prompts,)
    hits = ({question.id: question.hits for question in pipeline.read(files.RETRIEVAL, Retrieval).train_questions}
            if "retrieval" in styles else {})
    tokenizer = _tokenizer(spec.model) if hits else None
    without_oracle = distractor_only_rows(spec, len(split.train))
    lines = []
    for i, row in enumerate(split.train):
        for style in styles:
            question = row.question if style == "bare" else _retrieval_prompt(
                spec, row, training_passages(spec, row, hits.get(i, []), i in without_oracle), tokenizer)
            target = training_target(spec, row.reference)
            lines.append(json.dumps(_record(question, target, spec.generation.system_prompt or row.system)))
    write_atomic(pipeline.path(adapter.data_file), "\n".join(lines) + "\n")
    pipeline.log(f"{adapter.name}: {len(lines)} training rows ({' + '.join(styles)} prompts) from "
                 f"{len(split.train)} examples")
    return len(lines)


def distractor_only_rows(spec: CompareSpec, rows: int) -> set[int]:
    """Positions in split.train whose retrieval prompt gets distractors only: `distractor_only_share`
    of them, drawn with the seed (the same rows on a resume)."""
    import random

    return set(random.Random(spec.seed).sample(range(rows), round(spec.finetune.distractor_only_share * rows)))


def training_passages(spec: CompareSpec, row: TrainItem, hits: list, distractors_only: bool = False) -> list:
    """The passages of one retrieval training prompt, RAFT's way (Zhang et al. 2024): the best-ranked
    oracle and the next best-ranked passages, `train_passages` in all, in retrieval order; for a
    distractor-only row (or when retrieval missed the oracle) the best-ranked passages that are no
    oracle. 0 keeps all k."""
    keep = spec.finetune.train_passages
    if not keep:
        return hits
    oracles = [hit for hit in hits if is_relevant_passage(hit.source, hit.text, row.reference, row.relevant or None)]
    if distractors_only or not oracles:
        chosen = [hit for hit in hits if not any(hit is oracle for oracle in oracles)][:keep]
    else:
        chosen = [oracles[0], *[hit for hit in hits if hit is not oracles[0]][:keep - 1]]
    return [hit for hit in hits if any(hit is kept for kept in chosen)]


def _retrieval_prompt(spec: CompareSpec, row: TrainItem, hits: list, tokenizer: Any) -> str:
    """The hybrid arm's prompt for this question, fitted so prompt + answer stay within max_seq_len."""
    answer_tokens = len(tokenizer(training_target(spec, row.reference), add_special_tokens=False)["input_ids"])
    budget = max(16, spec.finetune.max_seq_len - answer_tokens - TEMPLATE_MARGIN_TOKENS)
    from rag_baseline.errors import RagError

    try:
        return arm_prompt("finetuned_rag", row.question, hits, tokenizer, budget)
    except RagError:  # the answer leaves no room for a passage: train this row without (RAFT does for some)
        return arm_prompt("finetuned_rag", row.question, [])


def _record(question: str, target: str, system: str | None) -> dict:
    """A row in a shape the tuning backend recognises: chat messages when there is a system prompt,
    else prompt/completion."""
    if system:
        return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": question},
                             {"role": "assistant", "content": target}]}
    return {"prompt": question, "completion": target}


def training_target(spec: CompareSpec, reference: str) -> str:
    """What the adapter learns to answer (and a demonstration shows). With the sql-exec scorer a
    reference may list accepted alternatives (sql-eval's `;`-separated queries and `{a,b}` column
    choices, which do not run as written): the first minimal query, a real one. Otherwise the
    first accepted answer a reference lists (compare.metrics.reference_aliases)."""
    if spec.scoring is not None and "sql-exec" in spec.scoring.names:
        from compare.scoring.sql_extract import reference_alternatives

        return (reference_alternatives(reference) or [reference])[0]
    from compare.metrics import reference_aliases

    return reference_aliases(reference)[0]


def _tokenizer(model: str) -> Any:
    from lm.loading import load_tokenizer

    return load_tokenizer(model)
