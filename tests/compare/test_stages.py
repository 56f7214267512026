"""Stages run in-process on the tiny model: an answering stage resumes at the first unanswered
question (dropping a line cut short by a crash), and the split is the one every arm shares."""
from __future__ import annotations

import json

import pytest

from compare.pipeline import Pipeline
from compare.records import Split
from compare.spec import CompareSpec
import runs

pytestmark = pytest.mark.slow


@pytest.fixture
def pipeline(qa_file, tiny_model_dir, tmp_path):
    spec = CompareSpec(data=qa_file, model=str(tiny_model_dir), output=tmp_path / "run", arms=["base"],
                       eval_fraction=0.25, generation={"max_new_tokens": 3})
    return Pipeline(runs.create_run(spec))


def test_split_is_seeded_and_disjoint(pipeline):
    pipeline.stage_function("split")()
    split = pipeline.read("split.json", Split)
    assert (len(split.train), len(split.eval)) == (18, 6)
    assert {e.question for e in split.eval}.isdisjoint({t.question for t in split.train})
    assert [e.id for e in split.eval] == list(range(6))
    train_lines = (pipeline.run_dir / "train_data.jsonl").read_text().splitlines()
    assert json.loads(train_lines[0]) == {"prompt": split.train[0].question, "completion": split.train[0].reference}


def test_an_answering_stage_resumes_at_the_first_unanswered_question(pipeline):
    pipeline.stage_function("split")()
    partial = pipeline.run_dir / "answers" / "base.partial.jsonl"
    partial.parent.mkdir()
    kept = {"id": 0, "answer": "kept", "latency_s": 9.0, "prompt_tokens": 1, "new_tokens": 1}
    partial.write_text(json.dumps(kept) + "\n" + '{"id": 1, "answ')  # the second line was cut by a crash
    pipeline.stage_function("base")()
    rows = [json.loads(line) for line in (pipeline.run_dir / "answers" / "base.jsonl").read_text().splitlines()]
    assert rows[0] == kept  # not answered again
    assert [r["id"] for r in rows] == list(range(6))
    assert all(0 < r["new_tokens"] <= 3 for r in rows[1:])
    assert not partial.exists()
