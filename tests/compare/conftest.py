"""A small question/answer dataset (24 pairs) and matching documents for the comparison tests."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def write_docs(folder: Path) -> Path:
    """Three Markdown documents, eight capitals each, one heading per country."""
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(3):
        lines = [f"# Capitals, part {d + 1}", ""]
        for country, city in CITIES[d * 8:(d + 1) * 8]:
            lines += [f"## {country}", "", f"The capital of {country} is {city}.", ""]
        (folder / f"doc{d}.md").write_text("\n".join(lines))
    return folder


@pytest.fixture
def qa_file(tmp_path) -> Path:
    return write_qa(tmp_path / "qa.jsonl")


@pytest.fixture(scope="module")
def compare_inputs(tmp_path_factory) -> tuple[Path, Path]:
    """(the Q/A file, the documents folder), once per test module."""
    base = tmp_path_factory.mktemp("compare-inputs")
    return write_qa(base / "qa.jsonl"), write_docs(base / "docs")
