"""`Results`: what a comparison run found, saved as `results.json`; `load_results(run_dir)`
hands it to the report, the page and the CLI."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from compare import files
from compare.costs import ArmCost, BreakEven
from compare.errors import CompareError
from compare.evidence import Evidence
from compare.ranking import SCORER_LABELS
from compare.scoring.results import DatabaseInfo, ScorerSummary
from estimator.serving import ServingEstimate

RESULTS_FILE = files.RESULTS


class FormatMatch(BaseModel):
    """How closely an arm's answers take the references' form, apart from whether they are right."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(description="Mean length agreement: min/max of answer and reference token counts, in [0, 1].")
    exact_match: float = Field(description="Share of answers equal to the reference after SQuAD normalisation.")
    length_ratio_median: float | None = Field(description="Median of answer tokens / reference tokens (1: as long).")


class RetrievalSplit(BaseModel):
    """A retrieval arm's held-out questions by whether the retriever found the answer's passage (a hit,
    as hit@k defines it) and whether the answer was right: fix the retriever, or the model?"""

    model_config = ConfigDict(extra="forbid")

    hit_correct: int
    hit_wrong: int
    miss_correct: int
    miss_wrong: int
    correct_by: str = Field("answer_correct", description="The 0/1 metric that judged an answer right.")


class ArmMetrics(BaseModel):
    """One arm's scores over the held-out questions (means over questions, in [0, 1])."""

    model_config = ConfigDict(extra="forbid")

    arm: str
    questions: int = Field(ge=0)
    answer_correct: float = Field(0.0, description="Share of answers that state the reference (compare.metrics."
                                  "answer_correct): right, whatever the wording.")
    format_match: FormatMatch | None = Field(None, description="How closely the answers take the references' form.")
    exact_match: float = Field(description="Share of answers equal to the reference after SQuAD normalisation.")
    token_f1: float = Field(description="Mean SQuAD token F1.")
    rouge_l: float = Field(description="Mean ROUGE-L F-measure (LCS of normalised tokens).")
    latency_p50_s: float
    latency_p95_s: float
    latency_mean_s: float
    latency_basis: str = Field("", description="What the latency figures time (single requests, or batches).")
    seconds_per_answer: float = Field(0.0, description="Machine seconds per answer when answering in batches (batch wall time / batch size).")
    answer_batch_size: int = Field(1, description="Largest batch the answers were generated in.")
    generated_tokens: int = Field(description="New tokens generated over all questions.")
    generated_tokens_mean: float
    prompt_tokens_mean: float | None = Field(None, description="Mean prompt length in tokens (retrieved passages included).")
    hit_at_k: float | None = Field(None, description="Share of questions whose top-k passages hold the answer or its document.")
    k: int | None = None
    retrieval_split: RetrievalSplit | None = Field(None, description="Retrieval hits against right answers.")
    perplexity_before: float | None = Field(None, description="Base model's perplexity on the general text (fine-tuned arms).")
    perplexity_after: float | None = Field(None, description="Fine-tuned model's perplexity on the same text.")
    cost_per_1k_queries_usd: float | None = None
    scores: dict[str, ScorerSummary] = Field(default_factory=dict, description="Task-aware scorers: name -> summary.")


class TrainingFigures(BaseModel):
    """The fine-tune stage, measured, next to the estimator's prediction for the same spec."""

    model_config = ConfigDict(extra="forbid")

    method: str
    prompts: str = Field("bare", description="What the adapter trained on: bare, retrieval or mix prompts.")
    arms: list[str] = Field(default_factory=list, description="The fine-tuned arms it answers for.")
    steps: int
    epoch_steps: int | None = Field(None, description="Steps its epochs would take, when a step limit stopped it earlier.")
    train_examples: int
    seconds: float = Field(description="Wall time of the training run.")
    measured_peak_gib: float | None = Field(None, description="Peak memory measured during training.")
    measured_kind: str | None = Field(None, description="What was measured: cuda max reserved, or process RSS peak.")
    estimated_peak_gib: float | None = Field(None, description="The estimator's prediction for the same setup.")
    estimate_error_pct: float | None = Field(None, description="(estimated - measured) / measured, in %.")
    estimated_peak_gib_at_gpu: float | None = Field(None, description="The estimator's memory for the same training at the chosen GPU (bf16 compute).")
    estimated_hours_at_gpu: float | None = Field(None, description="The estimator's training time at the chosen GPU.")
    cost_usd: float | None = Field(None, description="Measured training time at the chosen GPU's price.")
    estimated_cost_usd: float | None = Field(None, description="The estimator's training cost at the chosen GPU.")
    run_dir: str | None = Field(None, description="The training sub-run folder (adapter, metrics, log).")


class TrainingEstimate(BaseModel):
    """The estimator's figures for the same training at the chosen GPU, or why there are none."""

    model_config = ConfigDict(extra="forbid")

    train_tokens: int | None = None
    epochs: float | None = None
    time_hours: float | None = None
    cost_usd: float | None = None
    memory_gib_at_gpu: float | None = None
    error: str | None = None


class CostFigures(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpu: str
    usd_per_hour: float | None
    price_source: str | None = None
    concurrency: int = Field(1, description="Requests decoded together in the serving estimate.")
    basis: str = Field(description="How the figures were computed, in words.")
    arms: dict[str, ArmCost] = Field(default_factory=dict)
    break_even: list[BreakEven] = Field(default_factory=list)
    serving: dict[str, ServingEstimate] = Field(default_factory=dict, description="The serving estimate behind each arm's cost.")
    training_estimates: dict[str, TrainingEstimate] = Field(
        default_factory=dict, description="Adapter (train, train_rag) -> the estimator's figures for its training.")


class Results(BaseModel):
    """The comparison's findings. `arms` maps an arm name to its metrics."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    run_dir: str
    model: str
    data: str
    train_examples: int
    eval_examples: int
    seed: int
    k: int
    generation: dict = Field(default_factory=dict, description="The generation settings every arm used.")
    hit_definition: str | None = Field(None, description="What counted as a retrieval hit.")
    index_seconds: float | None = None
    index_chunks: int | None = None
    arms: dict[str, ArmMetrics]
    trainings: dict[str, TrainingFigures] = Field(
        default_factory=dict, description="Adapter (train, train_rag) -> its training, measured and estimated.")
    costs: CostFigures | None = None
    evidence: Evidence | None = Field(None, description="What the evidence shows, in one paragraph.")
    scorers: list[str] = Field(default_factory=list, description="The task-aware scorers that ran, in order.")
    database: DatabaseInfo | None = Field(None, description="The PostgreSQL sql-exec ran on (start and load times).")
    notes: list[str] = Field(default_factory=list)

    @property
    def training(self) -> TrainingFigures | None:
        """The first adapter's training (the plain fine-tune's, when there is one)."""
        return next(iter(self.trainings.values()), None)

    def to_markdown(self) -> str:
        """The evidence, the metric table, then memory/time/cost: what `metrics.md` holds."""
        scorer_cols = "".join(f" {SCORER_LABELS.get(n, n)} |" for n in self.scorers)
        lines = [
            f"# Comparison: {Path(self.model).name or self.model}",
            "",
            f"{self.eval_examples} held-out questions (trained on {self.train_examples}), seed {self.seed}, "
            f"greedy={self.generation.get('greedy')}, max_new_tokens={self.generation.get('max_new_tokens')}, k={self.k}.",
            "",
            *([self.evidence.paragraph, ""] if self.evidence else []),
            f"| arm |{scorer_cols} correct | format match | length x ref | exact match | token F1 | ROUGE-L | hit@k "
            "| latency p50 (s) | latency p95 (s) | s / answer in batches | tokens/answer | ppl before -> after "
            "| $ / 1k queries |",
            "|---|" + "---|" * (13 + len(self.scorers)),
        ]
        for name, m in self.arms.items():
            ppl = (
                f"{m.perplexity_before:.1f} -> {m.perplexity_after:.1f}"
                if m.perplexity_before is not None and m.perplexity_after is not None else "-"
            )
            scored = "".join(f" {_opt(m.scores[n].mean) if n in m.scores else '-'} |" for n in self.scorers)
            fm = m.format_match
            lines.append(
                f"| {name} |{scored} {m.answer_correct:.3f} | {_opt(fm.score if fm else None)} "
                f"| {_opt(fm.length_ratio_median if fm else None, '{:.1f}')} | {m.exact_match:.3f} | {m.token_f1:.3f} | {m.rouge_l:.3f} | {_opt(m.hit_at_k)} "
                f"| {m.latency_p50_s:.3f} | {m.latency_p95_s:.3f} | {m.seconds_per_answer:.3f} "
                f"| {m.generated_tokens_mean:.1f} | {ppl} | {_opt(m.cost_per_1k_queries_usd, '{:.4f}')} |"
            )
        basis = next((m.latency_basis for m in self.arms.values() if m.latency_basis), "")
        lines += ["", f"Latency: {basis}, on the machine that ran the comparison."] if basis else []
        if self.hit_definition:
            lines += ["", f"hit@k: {self.hit_definition}"]
        lines += self._retrieval_split_lines()
        lines += ["", "correct: the answer states the reference (or one it lists); format match: how closely the "
                  "answers' length takes the references' (1 = as long); length x ref: median answer length over "
                  "the reference's."]
        if self.evidence and self.evidence.versus_best:
            lines += self._versus_lines()
        lines += self._scorer_lines()
        for t in self.trainings.values():
            lines += self._training_lines(t)
        lines += self._cost_lines()
        if self.notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def _retrieval_split_lines(self) -> list[str]:
        split = {a: m.retrieval_split for a, m in self.arms.items() if m.retrieval_split}
        if not split:
            return []
        lines = ["", "Retrieval hits against right answers:", "", "| arm | hit, right | hit, wrong | miss, right "
                 "| miss, wrong |", "|---|---:|---:|---:|---:|"]
        return lines + [f"| {a} | {s.hit_correct} | {s.hit_wrong} | {s.miss_correct} | {s.miss_wrong} |"
                        for a, s in split.items()]

    def _versus_lines(self) -> list[str]:
        ev = self.evidence
        lines = ["", f"How sure: {ev.best_arm} against each arm on {ev.metric_label} (paired, same questions):", "",
                 "| arm | difference | 95% interval | McNemar p | questions to separate |", "|---|---:|---|---:|---:|"]
        for arm, c in ev.versus_best.items():
            lines.append(f"| {arm} | {c.difference:+.3f} | {c.ci_low:+.3f} to {c.ci_high:+.3f} "
                         f"| {_opt(c.mcnemar_p, '{:.3g}')} | {c.questions_needed if c.questions_needed else '-'} |")
        return lines

    def _scorer_lines(self) -> list[str]:
        lines = []
        for name in self.scorers:
            counts = [f"{a}: {m.scores[name].errors} errors, {m.scores[name].timeouts} timeouts, "
                      f"{m.scores[name].excluded} excluded" for a, m in self.arms.items() if name in m.scores]
            lines += [f"- {SCORER_LABELS.get(name, name)}: {'; '.join(counts)}"]
        db = self.database
        if db is not None and db.embedded:
            lines.append(f"- database: a private PostgreSQL started in {db.start_s or 0:.1f} s, "
                         f"{len(db.load_s)} dumps loaded in {sum(db.load_s.values()):.1f} s; "
                         f"{db.queries} queries in {db.query_s:.1f} s")
        return ["", "Task-aware scorers (answers.jsonl has each verdict and error):", *lines] if lines else []

    def _training_lines(self, t: TrainingFigures) -> list[str]:
        gpu = self.costs.gpu if self.costs else "the chosen GPU"
        kind = f" ({t.measured_kind})" if t.measured_kind else ""
        error = f" ({t.estimate_error_pct:+.0f}%)" if t.estimate_error_pct is not None else ""
        return [
            "",
            f"## Training: the adapter of {', '.join(t.arms) or 'the fine-tuned arms'} ({t.method} on {t.prompts} "
            f"prompts, {t.steps} steps{of_epochs(t)} on {t.train_examples} examples)",
            "",
            "| figure | measured | estimated |",
            "|---|---|---|",
            f"| peak memory, this machine (GiB) | {_opt(t.measured_peak_gib, '{:.2f}')}{kind} "
            f"| {_opt(t.estimated_peak_gib, '{:.2f}')}{error} |",
            f"| peak memory at {gpu} (GiB) | - | {_opt(t.estimated_peak_gib_at_gpu, '{:.2f}')} |",
            f"| training time (s) | {t.seconds:.1f} (this machine) "
            f"| {_opt(t.estimated_hours_at_gpu * 3600 if t.estimated_hours_at_gpu is not None else None, '{:.3g}')} ({gpu}) |",
            f"| training cost at {gpu} ($) | {_opt(t.cost_usd, '{:.4g}')} "
            f"| {_opt(t.estimated_cost_usd, '{:.3g}')} |",
        ]

    def _cost_lines(self) -> list[str]:
        c = self.costs
        if c is None or c.usd_per_hour is None:
            return []
        lines = ["", f"## Cost at {c.gpu} (${c.usd_per_hour:.2f}/h)", "", c.basis, ""]
        lines += ["| arm | $ per 1k queries | fixed $ |", "|---|---|---|"]
        lines += [f"| {a} | {x.per_1k_queries_usd:.4f} | {x.fixed_usd:.4f} |" for a, x in c.arms.items()]
        if c.break_even:
            lines += [""] + [f"- {b.note}" for b in c.break_even]
        return lines


def _opt(value: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def load_results(run_dir_or_file: str | Path) -> Results:
    """Results of a comparison run, from its folder or its `results.json`."""
    path = Path(run_dir_or_file)
    if path.is_dir():
        path = path / RESULTS_FILE
    if not path.is_file():
        raise CompareError(f"no comparison results at {path} (has the run finished?)")
    try:
        return Results.model_validate(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise CompareError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc


def of_epochs(t: TrainingFigures) -> str:
    """` of the 84 its epochs take` when a step limit stopped the adapter earlier."""
    return f" of the {t.epoch_steps} its epochs take" if t.epoch_steps and t.steps < t.epoch_steps else ""


# Metrics shown as columns and charts, with their labels (page, report).
METRIC_LABELS: dict[str, str] = {
    "answer_correct": "correct",
    "format_match": "format match",
    "exact_match": "exact match",
    "token_f1": "token F1",
    "rouge_l": "ROUGE-L",
    "hit_at_k": "hit@k",
    "latency_p50_s": "latency p50 here (s)",
    "latency_p95_s": "latency p95 (s)",
    "generated_tokens_mean": "tokens / answer",
    "cost_per_1k_queries_usd": "$ / 1k queries",
}


def metric_rows(results: Results) -> list[dict]:
    """One row per arm, in the arms' order: the arm, each task-aware scorer's mean, then each metric
    of METRIC_LABELS (None where it does not apply)."""
    return [{"arm": name,
             **{SCORER_LABELS.get(s, s): (m.scores[s].mean if s in m.scores else None) for s in results.scorers},
             **{label: metric_value(m, field) for field, label in METRIC_LABELS.items()}}
            for name, m in results.arms.items()]


def metric_value(m: ArmMetrics, field: str) -> float | None:
    """An arm's figure for a METRIC_LABELS field (format match: its score)."""
    if field == "format_match":
        return m.format_match.score if m.format_match else None
    return getattr(m, field)


def read_side_by_side(run_dir: str | Path) -> list[dict]:
    """answers.jsonl flattened for a table: question, reference, then one column per arm."""
    path = Path(run_dir) / files.ANSWERS_JSONL
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        rows.append({"question": record["question"], "reference": record["reference"], **record["answers"]})
    return rows


def answers_key(answers: Any) -> str:
    """A short stable key of the advisor's answers (a pydantic model or a dict), stored in the
    spec of a comparison launched from them, so the report can find "its" comparison."""
    data = answers.model_dump(mode="json") if hasattr(answers, "model_dump") else answers
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def find_comparison(runs_root: str | Path, answers: Any) -> Path | None:
    """The newest completed comparison run under `runs_root` launched from these answers, if any."""
    key, found = answers_key(answers), []
    root = Path(runs_root)
    for spec_path in root.glob("*/spec.json") if root.exists() else []:
        try:
            spec = json.loads(spec_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        run_dir = spec_path.parent
        if spec.get("kind") == "compare" and spec.get("answers_key") == key and (run_dir / RESULTS_FILE).exists():
            found.append(run_dir)
    return max(found, key=lambda p: (p / RESULTS_FILE).stat().st_mtime) if found else None
