"""Run-folder file helpers shared by the stages: where each stage's output lives, tolerant JSONL reads.
(Atomic writes: `tuning.runs.write_atomic`.)"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ANSWER_STAGES = ("base", "rag", "finetuned", "finetuned_rag")


def stage_output(run_dir: Path, stage: str) -> Path:
    """The file whose presence marks `stage` as finished."""
    if stage in ANSWER_STAGES:
        return run_dir / "answers" / f"{stage}.jsonl"
    return run_dir / {
        "split": "split.json", "index": "retrieval.json", "train": "train.json",
        "forgetting": "forgetting.json", "costs": "costs.json", "results": "results.json",
    }[stage]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a JSONL file; reading stops at a line cut short by a crash."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows
