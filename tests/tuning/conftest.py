"""Fixtures for the tuning job tests: small datasets, and ONE real LoRA run (through the CLI and
the detached worker) shared by the worker, merge, generate and CLI tests."""
from __future__ import annotations

import json
import random

import pytest

STEPS = 24  # ~30 ms a step on the tiny model; the worker's start (imports) dominates


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def arithmetic_rows(n: int = 48, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(1, 60), rng.randint(1, 60)
        rows.append({"prompt": f"What is {a} plus {b}?", "completion": f"{a} plus {b} is {a + b}."})
    return rows


@pytest.fixture(scope="session")
def jsonl():
    """write_jsonl(path, rows) -> path."""
    return write_jsonl


@pytest.fixture(scope="session")
def sft_data(tmp_path_factory):
    return write_jsonl(tmp_path_factory.mktemp("data") / "sft.jsonl", arithmetic_rows())


@pytest.fixture(scope="session")
def dpo_data(tmp_path_factory):
    rows = [{"prompt": r["prompt"], "chosen": r["completion"], "rejected": "I do not know."}
            for r in arithmetic_rows(32)]
    return write_jsonl(tmp_path_factory.mktemp("data") / "dpo.jsonl", rows)


@pytest.fixture(scope="session")
def trained_run(tiny_model_dir, sft_data, tmp_path_factory):
    """A finished LoRA SFT run made by `ftadvisor tune` (blocking), as a user would."""
    from cli.main import main

    run_dir = tmp_path_factory.mktemp("runs") / "lora"
    rc = main(["tune", "--model", str(tiny_model_dir), "--data", str(sft_data), "--method", "lora",
               "--max-steps", str(STEPS), "--batch-size", "8", "--lr", "5e-3", "--logging-steps", "4",
               "--save-steps", "12", "--no-near-dup", "--output", str(run_dir)])
    assert rc == 0, (run_dir / "log.txt").read_text()[-3000:]
    return run_dir
