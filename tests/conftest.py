"""Shared test setup: never touch the network, never write into the repository. Fixtures used by
more than one test folder: datasets, one trained run, documents, the sql-eval data."""
import json
import os
import random
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

from bench import sql_eval_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny Llama model + tokenizer built offline once per test session (~4 s)."""
    from lm.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """ftadvisor's home (runs, stores) goes to a temp folder, never the user's or the repo."""
    monkeypatch.setenv("FTADVISOR_HOME", str(tmp_path / "ftadvisor-home"))


def pytest_collection_modifyitems(config, items):
    """Skip `gpu`-marked tests without a CUDA GPU (torch is imported only when some are collected)."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch sees none)")
    for item in gpu_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory):
    """SmolLM2-135M-Instruct pulled once per test session (30-80 s on 2 shared cores), into a
    session home's models folder: point FTADVISOR_HOME at `smollm2_dir.parent.parent` to find it
    where `pull(name)` and `--model smollm2-135m-instruct` look."""
    from lm.offline import SMOLLM2, pull

    home = tmp_path_factory.mktemp("offline-home")
    return pull(SMOLLM2, home / "models" / SMOLLM2).path


@pytest.fixture
def small_disk(tmp_path):
    """A real 256 KiB file system (tmpfs) mounted in tmp_path, for a full disk or a read-only
    folder without faking the error (as root, chmod does not stop writes). `fill_disk(folder)`
    fills it; `make_read_only(folder)` remounts it read-only. Needs the right to mount (root, as
    on this project's machines and CI): skipped without it."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill_disk(folder):
    """Write zeros into folder/filler until the file system says it is full (ENOSPC)."""
    import errno

    with open(folder / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def make_read_only(disk):
    import subprocess

    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)


@pytest.fixture(scope="session")
def sql_eval() -> Path:
    """The sql-eval folder; the tests that use it skip without it."""
    folder = sql_eval_dir()
    if not (folder / "schemas").is_dir() or not (folder / "questions_gen_postgres.csv").is_file():
        pytest.skip(f"the sql-eval dataset is not at {folder} (FTADVISOR_SQL_EVAL names its folder)")
    return folder


# Datasets and one real training run, shared by tests/tuning, tests/cli and the tests of what reads a run.
TRAINED_RUN_STEPS = 24  # ~30 ms a step on the tiny model; the worker's start (imports) dominates


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
    """A finished LoRA SFT run made by `ftadvisor tune` (blocking), as a user would: one per session."""
    from cli.main import main

    run_dir = tmp_path_factory.mktemp("runs") / "lora"
    rc = main(["tune", "--model", str(tiny_model_dir), "--data", str(sft_data), "--method", "lora",
               "--max-steps", str(TRAINED_RUN_STEPS), "--batch-size", "8", "--lr", "5e-3", "--logging-steps", "4",
               "--save-steps", "12", "--no-near-dup", "--output", str(run_dir)])
    assert rc == 0, (run_dir / "log.txt").read_text()[-3000:]
    return run_dir


@pytest.fixture
def docs(tmp_path) -> Path:
    """Three small documents of different kinds."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "refunds.md").write_text(
        "# Refund policy\n\nRefunds are paid back to the original card within 14 days of the request.\n\n"
        "## Exceptions\n\nGift cards and sale items cannot be refunded.\n"
    )
    (folder / "shipping.txt").write_text(
        "We ship parcels to France, Germany and Spain. Delivery takes three to five working days.\n"
    )
    (folder / "orders.sql").write_text(
        "-- the orders table\nCREATE TABLE orders (\n    id bigint,\n    customer text,\n    amount numeric\n);\n\n"
        "INSERT INTO orders VALUES (1, 'Ada; Lovelace', 9.99);\n"
    )
    return folder


# A small question/answer dataset (24 pairs), for the comparison and its command.
CITIES = [
    ("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"),
    ("Portugal", "Lisbon"), ("Austria", "Vienna"), ("Poland", "Warsaw"), ("Greece", "Athens"),
    ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Ireland", "Dublin"),
    ("Hungary", "Budapest"), ("Denmark", "Copenhagen"), ("Belgium", "Brussels"), ("Czechia", "Prague"),
    ("Egypt", "Cairo"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"),
    ("Chile", "Santiago"), ("Canada", "Ottawa"), ("Cuba", "Havana"), ("Iran", "Tehran"),
]


def write_qa(path: Path) -> Path:
    """24 question/answer pairs (JSONL, `question`/`answer` shape) with a `doc` column naming
    the document that holds each answer."""
    rows = [{"question": f"What is the capital of {country}?", "answer": city, "doc": f"doc{i // 8}"}
            for i, (country, city) in enumerate(CITIES)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def qa_file(tmp_path) -> Path:
    return write_qa(tmp_path / "qa.jsonl")
