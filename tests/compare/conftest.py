"""Documents matching the question/answer dataset (`qa_file`, tests/conftest.py), for the
comparison tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CITIES, write_qa


def write_docs(folder: Path) -> Path:
    """Three Markdown documents, eight capitals each, one heading per country."""
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(3):
        lines = [f"# Capitals, part {d + 1}", ""]
        for country, city in CITIES[d * 8:(d + 1) * 8]:
            lines += [f"## {country}", "", f"The capital of {country} is {city}.", ""]
        (folder / f"doc{d}.md").write_text("\n".join(lines))
    return folder


@pytest.fixture(scope="module")
def compare_inputs(tmp_path_factory) -> tuple[Path, Path]:
    """(the Q/A file, the documents folder), once per test module."""
    base = tmp_path_factory.mktemp("compare-inputs")
    return write_qa(base / "qa.jsonl"), write_docs(base / "docs")
