"""The split stage: one seeded split of the dataset that every arm shares (split.json: the training
rows and the held-out questions)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compare import files
from compare.errors import CompareError
from compare.records import EvalItem, Split, TrainItem

if TYPE_CHECKING:
    from compare.pipeline import Pipeline
    from compare.spec import CompareSpec


def run(pipeline: Pipeline) -> None:
    """split.json: train + held-out rows, `eval_count` capping the held-out ones."""
    from tuning.data.load import load_examples
    from tuning.data.split import split_examples

    spec = pipeline.spec
    loaded = load_examples(spec.data, spec.mapping, kind="sft")
    errors = [problem for problem in loaded.problems if problem.severity == "error"]
    if errors or not loaded.examples:
        lines = "; ".join(str(problem) for problem in errors[:5]) or "no examples"
        raise CompareError(f"the dataset cannot be used: {lines}")
    train, held = split_examples(loaded.examples, spec.eval_fraction, spec.seed)
    if spec.eval_count is not None:
        held = held[: spec.eval_count]
    if not held:
        raise CompareError(f"no held-out questions: {len(loaded.examples)} examples at eval_fraction "
                           f"{spec.eval_fraction}")
    if spec.needs_training and not train:
        raise CompareError("no training examples left after the split: lower eval_fraction")
    relevant = _relevant_by_line(spec) if spec.relevant_field else {}
    eval_items = []
    for i, example in enumerate(held):
        question, reference, system = question_and_reference(example)
        eval_items.append(EvalItem(id=i, question=question, reference=reference, system=system,
                                   relevant=relevant.get(example.source_line), source_line=example.source_line))
    train_items = []
    for example in train:
        question, reference, system = question_and_reference(example)
        train_items.append(TrainItem(question=question, reference=reference, system=system,
                                     relevant=relevant.get(example.source_line), source_line=example.source_line))
    pipeline.write(files.SPLIT, Split(shape=loaded.shape, total=len(loaded.examples), train=train_items,
                                      eval=eval_items))
    pipeline.log(f"split: {len(train_items)} train, {len(eval_items)} held-out (seed {spec.seed})")


def question_and_reference(example: Any) -> tuple[str, str, str | None]:
    """(question, reference answer, system prompt) of an SFT example: prompt/completion, or a
    chat whose last assistant turn is the answer and the user turn before it the question."""
    if example.messages is None:
        return example.prompt, example.completion, example.system
    messages = list(example.messages)
    last = max((i for i, message in enumerate(messages) if message.role == "assistant"), default=None)
    if last is None:
        raise CompareError(f"line {example.source_line}: a chat with no assistant turn has no reference answer")
    users = [message.content for message in messages[:last] if message.role == "user"]
    system = next((message.content for message in messages if message.role == "system"), None)
    return (users[-1] if users else ""), messages[last].content, system


def _relevant_by_line(spec: CompareSpec) -> dict[int, str]:
    """source line -> the value of `relevant_field` (the document that answers that row)."""
    from tuning.data.readers import read_records

    raw = read_records(spec.data)
    if spec.relevant_field not in raw.columns():
        raise CompareError(
            f"relevant_field: no column {spec.relevant_field!r} in {spec.data.name} "
            f"(columns: {', '.join(raw.columns())})"
        )
    return {line: str(record.get(spec.relevant_field, "")) for line, record in raw.rows if isinstance(record, dict)}
