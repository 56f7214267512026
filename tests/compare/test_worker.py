"""The worker records how a run ended: a failure with its reason and the stage it failed in, a
cancel requested before a stage starts. In-process and quick: both end in the split stage."""
from __future__ import annotations

from compare.spec import CompareSpec
from compare.worker import run
from tuning import runs


def _run_dir(qa_file, tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a model folder (nothing is loaded before split fails)
    spec = CompareSpec(data=qa_file, model=str(tmp_path), output=tmp_path / "run", arms=["base"])
    return runs.create_run(spec)


def test_a_failure_is_recorded_with_its_reason_and_stage(qa_file, tmp_path):
    run_dir = _run_dir(qa_file, tmp_path)
    qa_file.write_text('{"question": "q1", "answer": "a1"}\n{"question": "q2"}\n')  # changed after launch
    assert run(run_dir) == 1
    status = runs.read_status(run_dir)
    assert status.state == "failed" and status.stage == "split"
    assert status.stages == {"split": "failed", "base": "pending", "costs": "pending", "results": "pending"}
    assert "qa.jsonl line 2" in status.error and "'answer'" in status.error


def test_a_cancel_request_stops_before_the_next_stage(qa_file, tmp_path):
    run_dir = _run_dir(qa_file, tmp_path)
    (run_dir / runs.CANCEL_FILE).write_text("now")
    assert run(run_dir) == 0
    status = runs.read_status(run_dir)
    assert status.state == "cancelled" and status.stages["split"] == "cancelled"
    assert not (run_dir / "split.json").exists()
