"""`Results`: what a comparison run found, saved as `results.json`; `load_results(run_dir)`
hands it to the one view of it (compare.view: metrics.md, the report, the page)."""
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
from compare.scoring.results import DatabaseInfo, ScorerSummary
from estimator.serving import ServingEstimate

RESULTS_FILE = files.RESULTS


class FormatMatch(BaseModel):
    """How closely an arm's answers take the references' form, apart from whether they are right."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(description="Mean per answer of the length agreement (min/max of answer and reference "
                         "token counts, in [0, 1]), 0 for an answer that does not open as the references do "
                         "when they share an opening word.")
    exact_match: float = Field(description="Share of answers equal to the reference after SQuAD normalisation.")
    length_ratio_median: float | None = Field(description="Median of answer tokens / reference tokens (1: as long).")
    opening: str | None = Field(None, description="The word most references open with (80% or more, e.g. select), "
                                "part of their form; none when they share none.")
    opening_share: float | None = Field(None, description="Share of answers that open with `opening`.")


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
    seconds_per_answer: float = Field(
        0.0, description="Machine seconds per answer when answering in batches (batch wall time / batch size)."
    )
    answer_batch_size: int = Field(1, description="Largest batch the answers were generated in.")
    generated_tokens: int = Field(description="New tokens generated over all questions.")
    generated_tokens_mean: float
    prompt_tokens_mean: float | None = Field(
        None, description="Mean prompt length in tokens (retrieved passages included)."
    )
    hit_at_k: float | None = Field(
        None, description="Share of questions whose top-k passages hold the answer or its document."
    )
    k: int | None = None
    retrieval_split: RetrievalSplit | None = Field(None, description="Retrieval hits against right answers.")
    perplexity_before: float | None = Field(
        None, description="Base model's perplexity on the general text (fine-tuned arms)."
    )
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
    epoch_steps: int | None = Field(
        None, description="Steps its epochs would take, when a step limit stopped it earlier."
    )
    train_examples: int
    seconds: float = Field(description="Wall time of the training run.")
    measured_peak_gib: float | None = Field(None, description="Peak memory measured during training.")
    measured_kind: str | None = Field(None, description="What was measured: cuda max reserved, or process RSS peak.")
    estimated_peak_gib: float | None = Field(None, description="The estimator's prediction for the same setup.")
    estimate_error_pct: float | None = Field(None, description="(estimated - measured) / measured, in %.")
    estimated_peak_gib_at_gpu: float | None = Field(
        None, description="The estimator's memory for the same training at the chosen GPU (bf16 compute)."
    )
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
    serving: dict[str, ServingEstimate] = Field(
        default_factory=dict, description="The serving estimate behind each arm's cost."
    )
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
