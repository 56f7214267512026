"""The answers a run folder has generated, by what produced them, so that a resumed run or a stage
run again never generates an answer twice (a re-scored run reads the answers files and generates
nothing).

answers/cache.jsonl holds one line per generated answer: its key and the `AnswerRecord` less its id
(the tokens, the wall time and the batch size of the call that produced it). The key is a SHA-256
over
- the model: the base (a folder or a hub id) and the LoRA adapter folder, each with its files'
  names, sizes and modification times (a retrained adapter misses), the base's quantization, and
  the engine that runs them (`auto` resolved: transformers or openvino);
- the prompt: the exact text the model reads (chat template, system prompt, demonstrations,
  passages, fitted to the context);
- the generation settings (compare.spec.GenerationSettings) and the seed; `latency_sample` changes
  no answer and is left out;
- the request: `batch` for the arm's answers, `alone` for the latency sample's single requests,
  which are generated again on purpose, to time them.

A line is appended after each answer (runs.append_jsonl: a line cut by a kill is skipped when read
and cut off by the next append), so a killed run resumes at the first answer it has not written.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from compare.records import AnswerRecord
from runs import append_jsonl, read_jsonl

Request = Literal["batch", "alone"]


def _files(folder: Path | None) -> list[tuple[str, int, int]]:
    """(name, bytes, mtime in ns) of a folder's files: a changed file changes the key, and no file
    is read (a 7B base is 14 GB)."""
    if folder is None or not folder.is_dir():
        return []
    return [(path.name, stat.st_size, stat.st_mtime_ns)
            for path in sorted(folder.iterdir()) if path.is_file() for stat in [path.stat()]]


def model_identity(choice: Any) -> dict[str, Any]:
    """What answers (an lm.generate.ModelChoice), as the key sees it."""
    from lm.conversion import local_folder

    adapter = Path(choice.adapter) if choice.adapter else None
    return {"source": choice.source, "source_files": _files(local_folder(choice.source)),
            "adapter": choice.adapter, "adapter_files": _files(adapter), "quant": choice.quant,
            "engine": choice.engine}


class AnswerCache:
    """The run folder's cache file, for one model and one set of generation settings."""

    def __init__(self, path: Path, model: dict[str, Any], generation: dict[str, Any], seed: int) -> None:
        self.path = path
        self._context = {"model": model, "generation": {k: v for k, v in generation.items() if k != "latency_sample"},
                         "seed": seed}
        self._answers = {row["key"]: row["answer"] for row in read_jsonl(path) if "key" in row and "answer" in row}
        self.hits = 0
        self.generated = 0

    def key(self, prompt_text: str, request: Request) -> str:
        payload = {**self._context, "prompt": prompt_text, "request": request}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def get(self, key: str, question_id: int) -> AnswerRecord | None:
        """The cached answer for `key`, as the answer to question `question_id`; None if none."""
        found = self._answers.get(key)
        if found is None:
            return None
        self.hits += 1
        return AnswerRecord(id=question_id, **found)

    def put(self, key: str, record: AnswerRecord) -> None:
        answer = record.model_dump(exclude={"id"})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        append_jsonl(self.path, {"key": key, "answer": answer})
        self._answers[key] = answer
        self.generated += 1
