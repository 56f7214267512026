"""`DatasetReport`: everything checked about a dataset before training, shown before a run
(`to_markdown()`) and saved with it (`dataset_report.json`, `dataset_report.md`)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common.text import one_line
from common.vocabulary import Recipe
from tuning.data.lengths import SeqLength
from tuning.data.readers import DataFormat
from tuning.data.schemas import FieldMapping, Problem
from tuning.errors import DatasetError

REPORT_FILE = "dataset_report.json"
_STRICT = ConfigDict(extra="forbid")


class Counts(BaseModel):
    model_config = _STRICT

    total: int = Field(description="Records read (valid or not).")
    valid: int = Field(description="Records that became examples.")
    invalid: int = Field(description="Records with at least one problem.")
    unusable: int = Field(0, description="Valid examples training drops: the prompt alone fills max_seq_len.")
    train: int = 0
    eval: int = 0


class HistogramBin(BaseModel):
    model_config = _STRICT

    start: int = Field(description="Smallest length in the bin (inclusive).")
    end: int = Field(description="Largest length in the bin (inclusive).")
    count: int


class LengthStats(BaseModel):
    model_config = _STRICT

    unit: Literal["tokens", "words"] = Field(description="'words' = whitespace words, an approximation of tokens.")
    tokenizer: str | None = None
    min: int
    mean: float
    p50: int
    p95: int
    max: int
    histogram: list[HistogramBin]


class TooLong(BaseModel):
    """What max_seq_len does: training keeps the start of each sequence (trl's keep_start), so a
    longer example loses its end, and one whose prompt alone fills max_seq_len loses every answer
    token and is dropped (see tuning.data.lengths)."""

    model_config = _STRICT

    max_seq_len: int
    count: int = Field(0, description="Examples longer than max_seq_len that still train: training cuts their end.")
    tokens_cut: int = Field(0, description="Tokens (or words) that would be cut, summed over those examples.")
    lines: list[int] = Field(default_factory=list, description="Their lines (the first 50).")
    unusable_lines: list[int] = Field(
        default_factory=list, description="Lines of the examples whose prompt alone fills max_seq_len (the first 50)."
    )
    unusable_prompt: tuple[int, int] | None = Field(None, description="Shortest and longest prompt among those.")
    needed_seq_len: int | None = Field(None, description="The max_seq_len that trains every one of them whole.")

    def unusable_message(self, count: int, unit: str) -> str:
        """'lines 3, 7, 12: the prompt alone is 600 tokens, which fills --seq-len 512, ...'."""
        shown = ", ".join(map(str, self.unusable_lines[:10])) + (f", ... ({count} in all)" if count > 10 else "")
        lo, hi = self.unusable_prompt or (0, 0)
        them = "it" if count == 1 else "them"
        return (f"{'line' if count == 1 else 'lines'} {shown}: the prompt alone is {lo if lo == hi else f'{lo}-{hi}'} "
                f"{unit}, which fills --seq-len {self.max_seq_len}, so no answer {unit[:-1]} is left to train on; "
                f"--seq-len must be at least {self.needed_seq_len} to train on {them}")


class NearDuplicate(BaseModel):
    model_config = _STRICT

    line_a: int
    line_b: int
    cosine: float


class DatasetReport(BaseModel):
    model_config = _STRICT

    schema_version: int = 1
    path: str
    file: str
    format: DataFormat
    kind: Recipe
    shape: str | None = Field(None, description="Detected shape ('mapped' with a mapping); None if unknown.")
    columns: list[str] = Field(default_factory=list)
    mapping: FieldMapping | None = None
    ok: bool = Field(description="True when nothing blocks training: no problems and at least one example.")
    counts: Counts
    problems: list[Problem] = Field(default_factory=list, description="Blocking problems, the first max_problems.")
    problems_total: int = 0
    lengths: LengthStats | None = None
    too_long: TooLong
    exact_duplicates: list[list[int]] = Field(default_factory=list, description="Groups of lines with the same text.")
    near_dup_checked: bool = False
    near_dup_threshold: float = 0.9
    near_duplicates: list[NearDuplicate] = Field(default_factory=list, description="Pairs, the first 500.")
    near_duplicates_total: int = 0
    eval_fraction: float = 0.1
    seed: int = 42
    eval_lines: list[int] = Field(default_factory=list, description="Lines of the examples held out for eval.")
    notes: list[str] = Field(default_factory=list)

    def error_lines(self) -> list[str]:
        """One line per problem: 'data.jsonl line 7: invalid JSON (...)'."""
        lines = [str(p) for p in self.problems]
        if self.problems_total > len(self.problems):
            lines.append(f"{self.file}: ... and {self.problems_total - len(self.problems)} more problems")
        if not lines and not self.ok:
            lines.append(f"{self.file}: no valid examples")
        return lines

    def raise_for_problems(self) -> None:
        """Raise `DatasetError` (the first problem, all of them in `.problems`) unless ok."""
        if self.ok:
            return
        first = self.problems[0] if self.problems else None
        more = self.problems_total - 1
        message = first.message if first else "no valid examples"
        message += f" (and {more} more problems)" if more > 0 else ""
        raise DatasetError(
            message, file=self.file, line=first and first.line, field=first and first.field, problems=self.problems
        )

    def write(self, folder: str | Path) -> Path:
        """Save `dataset_report.json` and `dataset_report.md` in `folder`; returns the JSON path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dataset_report.md").write_text(self.to_markdown(), encoding="utf-8")
        path = folder / REPORT_FILE
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path

    def to_markdown(self) -> str:
        c = self.counts
        verdict = "OK: ready to train" if self.ok else f"NOT OK: {self.problems_total} problem(s) block training"
        out = [
            f"# Dataset report: {one_line(self.file)}",
            "",
            f"**{verdict}**",
            "",
            f"- format: {self.format}, kind: {self.kind}, shape: {self.shape or 'unknown'}",
            f"- columns: {one_line(', '.join(self.columns)) or 'none'}",
            f"- examples: {c.valid} valid of {c.total} read ({c.invalid} invalid"
            f"{f', {c.unusable} unusable: see Lengths' if c.unusable else ''}); "
            f"split: {c.train} train / {c.eval} eval (eval_fraction {self.eval_fraction}, seed {self.seed})",
        ]
        if self.mapping is not None:
            out.append(f"- mapping: {self.mapping.model_dump(exclude_none=True)}")
        if self.problems:
            out += ["", "## Problems", "", *[f"- {line}" for line in self.error_lines()]]
        out += _lengths_md(self.lengths, self.too_long, self.counts.unusable)
        out += self._duplicates_md()
        if self.notes:
            out += ["", "## Notes", "", *[f"- {n}" for n in self.notes]]
        return "\n".join(out) + "\n"

    def _duplicates_md(self) -> list[str]:
        out = ["", "## Duplicates", ""]
        copies = sum(len(g) - 1 for g in self.exact_duplicates)
        out.append(f"- exact: {len(self.exact_duplicates)} group(s), {copies} extra copies")
        out += [f"  - lines {', '.join(map(str, g))}" for g in self.exact_duplicates[:20]]
        if not self.near_dup_checked:
            out.append("- near-duplicates: not checked")
            return out
        out.append(f"- near-duplicates (cosine >= {self.near_dup_threshold}): {self.near_duplicates_total} pair(s)")
        out += [f"  - lines {p.line_a} and {p.line_b}: cosine {p.cosine:.3f}" for p in self.near_duplicates[:20]]
        out.append("- the split keeps every duplicate group on one side (no leak into eval)")
        return out


def _lengths_md(stats: LengthStats | None, too_long: TooLong, unusable: int) -> list[str]:
    if stats is None:
        return []
    unit = stats.unit if stats.tokenizer is None else f"tokens ({stats.tokenizer})"
    out = ["", f"## Lengths, in {unit}", "",
           f"min {stats.min}, mean {stats.mean:.1f}, p50 {stats.p50}, p95 {stats.p95}, max {stats.max}", "",
           "| length | examples | |", "|---|---:|---|"]
    peak = max((b.count for b in stats.histogram), default=0) or 1
    for b in stats.histogram:
        out.append(f"| {b.start}-{b.end} | {b.count} | {'#' * math.ceil(20 * b.count / peak) if b.count else ''} |")
    out += ["", f"- longer than max_seq_len {too_long.max_seq_len}: {too_long.count} example(s), "
            f"{too_long.tokens_cut} {stats.unit} would be cut"]
    if unusable:
        lines = ", ".join(map(str, too_long.unusable_lines)) + (
            ", ..." if unusable > len(too_long.unusable_lines) else ""
        )
        out.append(f"- unusable, dropped by training (the prompt alone fills max_seq_len): {unusable} example(s), "
                   f"line(s) {lines}; max_seq_len {too_long.needed_seq_len} trains them whole")
    return out


def length_stats(lengths: list[int], unit: str, tokenizer: str | None, bins: int = 10) -> LengthStats | None:
    """Min/mean/percentiles (nearest rank) and an equal-width histogram of `bins` bins."""
    if not lengths:
        return None
    ordered = sorted(lengths)
    lo, hi = ordered[0], ordered[-1]
    width = max(1, math.ceil((hi - lo + 1) / bins))
    counts = [0] * math.ceil((hi - lo + 1) / width)
    for n in lengths:
        counts[(n - lo) // width] += 1
    histogram = [HistogramBin(start=lo + i * width, end=lo + (i + 1) * width - 1, count=k)
                 for i, k in enumerate(counts)]
    return LengthStats(unit=unit, tokenizer=tokenizer, min=lo, mean=sum(lengths) / len(lengths),
                       p50=_nearest_rank(ordered, 0.5), p95=_nearest_rank(ordered, 0.95), max=hi, histogram=histogram)


def _nearest_rank(ordered: list[int], q: float) -> int:
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def too_long(lines: list[int], lengths: list[SeqLength], max_seq_len: int) -> TooLong:
    over = [(line, n.total - max_seq_len) for line, n in zip(lines, lengths, strict=True)
            if n.total > max_seq_len and not n.unusable(max_seq_len)]
    dropped = [(line, n) for line, n in zip(lines, lengths, strict=True) if n.unusable(max_seq_len)]
    prompts = [n.prompt for _, n in dropped]
    return TooLong(
        max_seq_len=max_seq_len, count=len(over), tokens_cut=sum(cut for _, cut in over),
        lines=[line for line, _ in over[:50]], unusable_lines=[line for line, _ in dropped[:50]],
        unusable_prompt=(min(prompts), max(prompts)) if prompts else None,
        needed_seq_len=max((n.total for _, n in dropped), default=None),
    )
