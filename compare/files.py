"""The comparison run folder's file names, relative to the folder: what the stages write and read,
and what a resumed run looks for. A stage's output (`compare.plan.STAGES`) marks it finished.

The names are a contract: a run folder written by an earlier version resumes with these.
"""
from __future__ import annotations

SPLIT = "split.json"
EXAMPLES = "examples.json"
RETRIEVAL = "retrieval.json"
STORE = "store"  # the Chroma store of the index stage
KNOWLEDGE_BASE = "kb/training_answers.md"  # the training answers, indexed when no documents are given
FORGETTING = "forgetting.json"
SCORES = "scores.json"
COSTS = "costs.json"
RESULTS = "results.json"  # written last: its presence means the run is whole
METRICS_MD = "metrics.md"
ANSWERS_JSONL = "answers.jsonl"  # every arm's answer side by side


def answers(arm: str) -> str:
    """The arm's answers, one `compare.records.AnswerRecord` a line."""
    return f"answers/{arm}.jsonl"


def partial_answers(arm: str) -> str:
    """The answers so far of an arm still answering; renamed to `answers(arm)` when it is done."""
    return f"answers/{arm}.partial.jsonl"


def latency(arm: str) -> str:
    """The arm's single-request latency sample (`compare.records.LatencySample`)."""
    return f"answers/{arm}.latency.json"


def train_record(adapter: str) -> str:
    """What training the adapter (train, train_rag) gave (`compare.records.TrainRecord`); its
    tuning sub-run is the folder named after the adapter."""
    return f"{adapter}.json"


def train_data(adapter: str) -> str:
    """The adapter's training rows (JSONL), written once so a resumed run trains on the same rows."""
    return f"{adapter}_data.jsonl"
