"""`validate_dataset` / `prepare_dataset`: load, check lengths and duplicates, split; one report."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from common.vocabulary import Recipe
from tuning.data.dedup import (
    NEAR_DUP_MAX_EXAMPLES,
    distinct_texts,
    exact_duplicate_groups,
    near_dup_notice,
    near_duplicate_pairs,
)
from tuning.data.lengths import example_lengths, load_tokenizer
from tuning.data.load import load_examples
from tuning.data.report import Counts, DatasetReport, NearDuplicate, TooLong, length_stats, too_long
from tuning.data.schemas import Example, FieldMapping, LoadedDataset, Problem
from tuning.data.split import check_eval_fraction, split_examples
from tuning.errors import TuningError

MAX_NEAR_PAIRS = 500  # pairs kept in the report; all of them still group the split


class PreparedDataset(BaseModel):
    """A validated dataset ready for a trainer: the report and the split it describes."""

    model_config = ConfigDict(extra="forbid")

    report: DatasetReport
    loaded: LoadedDataset
    train: list[Example]
    eval: list[Example]


def prepare_dataset(
    path: str | Path,
    mapping: FieldMapping | None = None,
    *,
    kind: Recipe = "sft",
    tokenizer: Any = None,
    max_seq_len: int = 512,
    near_dup: bool = True,
    near_dup_threshold: float = 0.9,
    eval_fraction: float = 0.1,
    seed: int = 42,
    max_problems: int = 50,
    on_progress: Callable[[int, int], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> PreparedDataset:
    """Load and check the dataset, then split it (seeded, duplicate groups on one side).

    `tokenizer`: None (lengths in whitespace words, an approximation), a model folder or hub id,
    or a loaded tokenizer. `near_dup=False` skips the embedding model (~10 s to load, then about
    10-30 examples/s on 2 CPU cores; `on_progress(done, total)` follows it); a long check is
    announced with its expected time through `on_notice(line)` before it starts, and more than
    NEAR_DUP_MAX_EXAMPLES distinct texts are not checked (said in the notes too).
    Raises `DatasetError` only for a file that cannot be read, `TuningError` for bad options.
    """
    _check_options(max_seq_len, near_dup_threshold, eval_fraction, max_problems)
    loaded = load_examples(path, mapping, kind=kind, max_problems=max_problems)
    examples = loaded.examples
    tok, tok_name = load_tokenizer(tokenizer)
    lengths = example_lengths(examples, tok)
    unit = "tokens" if tok is not None else "words"
    notes = [] if tok is not None else [
        "lengths are whitespace words, an approximation of tokens (give a tokenizer or --model for tokens)"
    ]
    cut = too_long([ex.source_line for ex in examples], lengths, max_seq_len)
    usable = [
        ex for ex, n in zip(examples, lengths, strict=True) if not n.unusable(max_seq_len)
    ]  # trl drops the others
    problems, problems_total = loaded.problems, loaded.problems_total
    if len(usable) < len(examples):
        message = _unusable(cut, len(examples), len(usable), unit)
        if usable:
            notes.append(message)
        else:  # nothing would train: refuse now, not after the model has loaded
            problems = [*problems, Problem(file=Path(path).name, message=message)]
            problems_total += 1
    exact = exact_duplicate_groups(usable)
    if near_dup:
        distinct = distinct_texts(usable)
        if notice := near_dup_notice(distinct):
            notes.append(notice)
            if on_notice is not None:
                on_notice(notice)
        near_dup = distinct <= NEAR_DUP_MAX_EXAMPLES
    pairs = near_duplicate_pairs(usable, near_dup_threshold, on_progress=on_progress) if near_dup else []
    train, held_out = split_examples(usable, eval_fraction, seed, groups=[[a, b] for a, b, _ in pairs])
    asked = round(len(usable) * eval_fraction)
    if len(held_out) < asked:
        notes.append(f"eval holds {len(held_out)} examples, not {asked}: duplicate groups are kept whole on one side")
    report = DatasetReport(
        path=str(path), file=Path(path).name, format=loaded.format, kind=kind, shape=loaded.shape,
        columns=loaded.columns, mapping=mapping, ok=loaded.ok and bool(usable),
        counts=Counts(total=loaded.total, valid=len(examples), invalid=loaded.total - len(examples),
                      unusable=len(examples) - len(usable), train=len(train), eval=len(held_out)),
        problems=problems, problems_total=problems_total,
        lengths=length_stats([n.total for n in lengths], unit, tok_name), too_long=cut,
        exact_duplicates=exact, near_dup_checked=near_dup, near_dup_threshold=near_dup_threshold,
        near_duplicates=[NearDuplicate(line_a=a, line_b=b, cosine=c) for a, b, c in pairs[:MAX_NEAR_PAIRS]],
        near_duplicates_total=len(pairs), eval_fraction=eval_fraction, seed=seed,
        eval_lines=[ex.source_line for ex in held_out], notes=notes,
    )
    return PreparedDataset(report=report, loaded=loaded, train=train, eval=held_out)


def _unusable(cut: TooLong, valid: int, usable: int, unit: str) -> str:
    dropped = valid - usable
    text = cut.unusable_message(dropped, unit)
    if usable:
        text += f"; training drops {'it' if dropped == 1 else 'them'} ({usable} of {valid} examples remain)"
    if unit == "words":
        text += " (counted in words: a tokenizer gives more; give --model to count tokens)"
    return text


def _check_options(max_seq_len: int, near_dup_threshold: float, eval_fraction: float, max_problems: int) -> None:
    if max_seq_len < 1:
        raise TuningError(f"max_seq_len must be at least 1, got {max_seq_len}")
    if not 0 < near_dup_threshold <= 1:
        raise TuningError(f"near_dup_threshold must be in (0, 1], got {near_dup_threshold}")
    check_eval_fraction(eval_fraction)
    if max_problems < 1:
        raise TuningError(f"max_problems must be at least 1, got {max_problems}")


def validate_dataset(path: str | Path, mapping: FieldMapping | None = None, **options: Any) -> DatasetReport:
    """The `DatasetReport` of `prepare_dataset` (same options): problems, counts, lengths,
    duplicates, the split. `report.ok` is False when anything blocks training."""
    return prepare_dataset(path, mapping, **options).report
