"""Where each stage's output lives in a comparison's run folder.
(Atomic writes and JSONL reads: `runs.write_atomic`, `runs.read_jsonl`.)"""
from __future__ import annotations

from pathlib import Path

ANSWER_STAGES = ("base", "rag", "finetuned", "finetuned_rag")


def stage_output(run_dir: Path, stage: str) -> Path:
    """The file whose presence marks `stage` as finished."""
    if stage in ANSWER_STAGES:
        return run_dir / "answers" / f"{stage}.jsonl"
    return run_dir / {
        "split": "split.json", "index": "retrieval.json", "train": "train.json",
        "forgetting": "forgetting.json", "costs": "costs.json", "results": "results.json",
    }[stage]
