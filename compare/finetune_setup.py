"""What the fine-tune stages train: which adapters (and which arm each serves), the method
(`auto` resolved by the device) and each adapter's rows, written for its tuning sub-run.

Prompts an adapter trains on:
- bare: the question alone, as the `finetuned` arm asks it;
- retrieval: the question with the passages retrieved for it, in the exact prompt the
  `finetuned_rag` arm sends (RAFT, Zhang et al. 2024, arXiv:2403.10131: train on the
  retrieval-augmented prompts the model will answer). Unlike RAFT we do not add an oracle passage
  nor chain-of-thought answers: the passages are those retrieval really returns, and the target is
  the dataset's reference answer;
- mix: both, one adapter for both fine-tuned arms.

`finetune.train_prompts` = separate (the default) trains one adapter per fine-tuned arm, each on
the prompts its arm sends: `train/` (bare) for `finetuned`, `train_rag/` (retrieval) for
`finetuned_rag`. Measured on the fictional-facts set (README, Compare): the hybrid's token F1
was 0.14 with a bare-trained adapter, 0.69 with a mixed one and 0.90 with its own retrieval-trained
one at the same 30 steps, and 0.75 with a mixed one at 60 steps (the compute of two adapters).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compare.arms import arm_prompt
from compare.records import Retrieval, Split, TrainItem
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline

@dataclass(frozen=True)
class Adapter:
    """One adapter the comparison trains: its sub-run folder (and record, data file), its prompts,
    and the fine-tuned arms it answers for."""

    name: str  # train | train_rag: the stage, the sub-run folder and <name>.json
    prompts: str  # bare | retrieval | mix
    arms: tuple[str, ...]

    @property
    def data_file(self) -> str:
        return f"{self.name}_data.jsonl"

    @property
    def record_file(self) -> str:
        return f"{self.name}.json"


def adapters(spec: Any) -> list[Adapter]:
    """The adapters `spec` trains, in stage order (none without a fine-tuned arm)."""
    tuned = [a for a in ("finetuned", "finetuned_rag") if a in spec.arms]
    mode = spec.finetune.train_prompts
    if not tuned:
        return []
    if mode != "separate":
        return [Adapter("train", mode if "finetuned_rag" in tuned else "bare", tuple(tuned))]
    plan = [Adapter("train", "bare", ("finetuned",))] if "finetuned" in tuned else []
    return plan + ([Adapter("train_rag", "retrieval", ("finetuned_rag",))] if "finetuned_rag" in tuned else [])


def adapter_for(spec: Any, arm: str) -> Adapter:
    return next(a for a in adapters(spec) if arm in a.arms)


def adapter_named(spec: Any, name: str) -> Adapter:
    return next(a for a in adapters(spec) if a.name == name)
# Tokens kept free in a training row beyond prompt + answer: the chat template's role markers and
# end-of-turn tokens (SmolLM2's ChatML: ~10 per turn), so trl never cuts the answer.
TEMPLATE_MARGIN_TOKENS = 32


def finetune_method(spec: Any) -> str:
    """The method the adapter trains with: the spec's, or for `auto` QLoRA on a CUDA GPU and LoRA on
    a CPU (bitsandbytes' CPU 4-bit matmul dequantizes every weight each step: slower, no memory win
    that matters on a machine with RAM to spare)."""
    if spec.finetune.method != "auto":
        return spec.finetune.method
    return "qlora" if _on_gpu() else "lora"


def epoch_steps(spec: Any, rows: int) -> int:
    """Optimizer steps the spec's epochs take over `rows` training rows."""
    return math.ceil(math.ceil(rows / spec.finetune.batch_size) * spec.finetune.epochs)


def step_limit(spec: Any, rows: int) -> tuple[int | None, int]:
    """(max_steps for the adapter's tuning run, the steps its epochs would take): the spec's
    max_steps, else on a CPU `cpu_step_budget` when the epochs would take more, else None."""
    ft, full = spec.finetune, epoch_steps(spec, rows)
    if ft.max_steps is not None:
        return ft.max_steps, full
    if ft.cpu_step_budget and full > ft.cpu_step_budget and not _on_gpu():
        return ft.cpu_step_budget, full
    return None, full


def _on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def write_training_file(p: Pipeline, adapter: Adapter) -> int:
    """The adapter's data file from split.json (and retrieval.json for retrieval prompts); returns
    the number of rows."""
    spec, split = p.spec, p.read("split.json", Split)
    styles = {"bare": ["bare"], "retrieval": ["retrieval"], "mix": ["bare", "retrieval"]}[adapter.prompts]
    hits = {q.id: q.hits for q in p.read("retrieval.json", Retrieval).train_questions} if "retrieval" in styles else {}
    tokenizer = _tokenizer(spec.model) if hits else None
    lines = []
    for i, row in enumerate(split.train):
        for style in styles:
            question = row.question if style == "bare" else _retrieval_prompt(spec, row, hits.get(i, []), tokenizer)
            target = training_target(spec, row.reference)
            lines.append(json.dumps(_record(question, target, spec.generation.system_prompt or row.system)))
    write_atomic(p.path(adapter.data_file), "\n".join(lines) + "\n")
    p.log(f"{adapter.name}: {len(lines)} training rows ({' + '.join(styles)} prompts) from {len(split.train)} examples")
    return len(lines)


def _retrieval_prompt(spec: Any, row: TrainItem, hits: list, tokenizer: Any) -> str:
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


def training_target(spec: Any, reference: str) -> str:
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
