"""What each stage writes in the run folder and the next stages read back: one pydantic model
per file (split.json, examples.json, retrieval.json, answers/<arm>.jsonl lines and
answers/<arm>.latency.json, train.json, forgetting.json, scores.json; the names are
`compare.files`). `costs.json` is `compare.results.CostFigures`, `results.json` is
`compare.results.Results`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from compare import files
from compare.scoring import DatabaseInfo, ScoringResult
from compare.spec import ARMS, FINETUNED_ARMS
from rag_baseline.schemas import SearchHit, SkippedFile
from runs import read_jsonl


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainItem(_Record):
    question: str
    reference: str
    system: str | None = None
    source_line: int
    relevant: str | None = Field(None, description="The document that answers it (the relevant_field column): hit@k "
                                 "for a held-out question, the oracle passage of a retrieval training prompt.")


class EvalItem(TrainItem):
    """A held-out question; `id` is its position in the held-out list (the key of every arm's answer)."""

    id: int


class Split(_Record):
    """split.json: the one seeded split every arm shares."""

    shape: str | None
    total: int = Field(description="Usable examples in the file.")
    train: list[TrainItem]
    eval: list[EvalItem]


class QuestionHits(_Record):
    id: int
    hit: float = Field(description="1.0 when the top-k passages hold the answer or its document.")
    hits: list[SearchHit]


class Retrieval(_Record):
    """retrieval.json: the index figures and the top-k passages of every held-out question."""

    k: int
    hit_definition: str
    documents: list[str]
    index_seconds: float
    chunks: int
    skipped: list[SkippedFile] = Field(default_factory=list)
    questions: list[QuestionHits]
    train_questions: list[QuestionHits] = Field(
        default_factory=list, description="Passages for each training question (id = its position in split.train), "
        "when the adapter trains on retrieval prompts.")

    def by_id(self) -> dict[int, QuestionHits]:
        return {question.id: question for question in self.questions}


class AnswerRecord(_Record):
    """One line of answers/<arm>.jsonl."""

    id: int
    answer: str
    latency_s: float = Field(description="Wall time of the generate() call that answered it (its whole batch).")
    batch_size: int = Field(1, ge=1, description="Questions answered by that call.")
    prompt_tokens: int
    new_tokens: int

    @property
    def machine_seconds(self) -> float:
        """This answer's share of the batch's wall time."""
        return self.latency_s / self.batch_size


def read_answers(run_dir: Path, arm: str) -> dict[int, AnswerRecord]:
    """An arm's finished answers (answers/<arm>.jsonl) by question id; none when it has not run."""
    return {row["id"]: AnswerRecord.model_validate(row) for row in read_jsonl(run_dir / files.answers(arm))}


class LatencySample(_Record):
    """answers/<arm>.latency.json: a few questions answered again alone, one generate() call each."""

    questions: int
    latencies_s: list[float]
    prompt_tokens: list[int]
    new_tokens: list[int]
    same_as_batched: int = Field(description="How many of these answers equal the batched answer.")
    greedy: bool


class TrainRecord(_Record):
    """train.json / train_rag.json: a fine-tune sub-run (one adapter), once completed."""

    run_dir: str
    adapter_dir: str
    method: str
    steps: int
    epoch_steps: int | None = Field(None, description="Steps its epochs would take (more than `steps` when a step "
                                    "limit stopped it: the CPU budget or max_steps).")
    prompts: str = Field("bare", description="What it trained on: bare, retrieval or mix prompts.")
    arms: list[str] = Field(default_factory=lambda: [arm for arm in ARMS if arm in FINETUNED_ARMS],
                            description="Arms it answers for (a train.json from before the hybrid's own adapter: "
                            "both fine-tuned arms).")
    train_examples: int
    seconds: float = Field(description="Wall time of the tuning worker, summed over resumed segments.")
    final_loss: float | None = None
    memory: dict[str, Any] = Field(default_factory=dict, description="The tuning run's memory.json.")


class Forgetting(_Record):
    """One adapter's perplexity on general text, adapter off (before) and on (after)."""

    perplexity_before: float
    perplexity_after: float
    change_pct: float
    texts: int
    source: str
    base_precision: str


class Forgettings(_Record):
    """forgetting.json: adapter name (train, train_rag) -> its Forgetting."""

    adapters: dict[str, Forgetting]


class QuestionExamples(_Record):
    id: int = Field(description="The held-out question (its position in split.json's eval).")
    train_ids: list[int] = Field(description="Its demonstrations: positions in split.json's train, nearest first.")
    similarity: list[float] = Field(description="Cosine similarity of each demonstration's question to it.")


class Examples(_Record):
    """examples.json: the demonstrations each held-out question gets (the fewshot arm, and the rag arm
    with `prompting.rag_examples`)."""

    k: int = Field(description="Demonstrations picked per question (the most any arm uses).")
    embedder: str
    skipped_same_question: int = Field(0, description="Training pairs passed over because their question is the "
                                       "held-out question itself (after normalisation).")
    questions: list[QuestionExamples]

    def by_id(self) -> dict[int, QuestionExamples]:
        return {question.id: question for question in self.questions}


class Scores(_Record):
    """scores.json: arm -> the scorers' verdicts on its answers (aligned with split.json's eval)."""

    scorers: list[str]
    arms: dict[str, ScoringResult]
    database: DatabaseInfo | None = None
