"""What the fine-tune stage trains: the method (`auto` resolved by the device) and the training
rows, written as train_data.jsonl for the tuning sub-run.

Rows by `finetune.train_prompts`:
- bare: the question alone, as the `finetuned` arm asks it;
- retrieval: the question with the passages retrieved for it, in the exact prompt the
  `finetuned_rag` arm sends (RAFT, Zhang et al. 2024, arXiv:2403.10131: train on the
  retrieval-augmented prompts the model will answer). Unlike RAFT we do not add an oracle passage
  nor chain-of-thought answers: the passages are those retrieval really returns, and the target is
  the dataset's reference answer;
- mix: both, so the one adapter serves both fine-tuned arms on the prompts each one sends.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from compare.arms import arm_prompt
from compare.records import Retrieval, Split, TrainItem
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline

TRAIN_DATA = "train_data.jsonl"
# Tokens kept free in a training row beyond prompt + answer: the chat template's role markers and
# end-of-turn tokens (SmolLM2's ChatML: ~10 per turn), so trl never cuts the answer.
TEMPLATE_MARGIN_TOKENS = 32


def finetune_method(spec: Any) -> str:
    """The method the adapter trains with: the spec's, or for `auto` QLoRA on a CUDA GPU and LoRA on
    a CPU (bitsandbytes' CPU 4-bit matmul dequantizes every weight each step: slower, no memory win
    that matters on a machine with RAM to spare)."""
    if spec.finetune.method != "auto":
        return spec.finetune.method
    import torch

    return "qlora" if torch.cuda.is_available() else "lora"


def write_training_file(p: Pipeline) -> int:
    """train_data.jsonl from split.json (and retrieval.json for retrieval prompts); returns the
    number of rows."""
    spec, split = p.spec, p.read("split.json", Split)
    styles = {"bare": ["bare"], "retrieval": ["retrieval"], "mix": ["bare", "retrieval"]}[spec.finetune.train_prompts]
    if not spec.trains_on_retrieval:
        styles = ["bare"]
    hits = {q.id: q.hits for q in p.read("retrieval.json", Retrieval).train_questions} if "retrieval" in styles else {}
    tokenizer = _tokenizer(spec.model) if hits else None
    lines = []
    for i, row in enumerate(split.train):
        for style in styles:
            question = row.question if style == "bare" else _retrieval_prompt(spec, row, hits.get(i, []), tokenizer)
            target = training_target(spec, row.reference)
            lines.append(json.dumps(_record(question, target, spec.generation.system_prompt or row.system)))
    write_atomic(p.path(TRAIN_DATA), "\n".join(lines) + "\n")
    p.log(f"train: {len(lines)} training rows ({' + '.join(styles)} prompts) from {len(split.train)} examples")
    return len(lines)


def _retrieval_prompt(spec: Any, row: TrainItem, hits: list, tokenizer: Any) -> str:
    """The hybrid arm's prompt for this question, fitted so prompt + answer stay within max_seq_len."""
    answer_tokens = len(tokenizer(training_target(spec, row.reference), add_special_tokens=False)["input_ids"])
    budget = max(16, spec.finetune.max_seq_len - answer_tokens - TEMPLATE_MARGIN_TOKENS)
    return arm_prompt("finetuned_rag", row.question, hits, tokenizer, budget)


def _record(question: str, target: str, system: str | None) -> dict:
    """A row in a shape the tuning backend recognises: chat messages when there is a system prompt,
    else prompt/completion."""
    if system:
        return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": question},
                             {"role": "assistant", "content": target}]}
    return {"prompt": question, "completion": target}


def training_target(spec: Any, reference: str) -> str:
    """What the adapter learns to answer. With the sql-exec scorer a reference may list accepted
    alternatives (sql-eval's `;`-separated queries and `{a,b}` column choices, which do not run as
    written): train on the first minimal query, a real one."""
    if spec.scoring is not None and "sql-exec" in spec.scoring.names:
        from compare.scoring.sql_extract import reference_alternatives

        return (reference_alternatives(reference) or [reference])[0]
    return reference


def _tokenizer(model: str) -> Any:
    from tuning.loading import load_tokenizer

    return load_tokenizer(model)
