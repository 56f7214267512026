"""Following a run from the command line: progress by stage or by step, the command that was typed
named in errors, a comparison's table once it completes, and `runs list|show` on comparisons."""
from __future__ import annotations

import json

import runs
from cli.follow import follow, progress_line
from cli.main import main


def _run(tmp_path, kind: str, spec: dict, **status) -> object:
    run_dir = tmp_path / f"{kind}-run"
    run_dir.mkdir()
    (run_dir / runs.SPEC_FILE).write_text(json.dumps(dict(spec, kind=kind)))
    runs.write_status(run_dir, runs.RunStatus(kind=kind, **status))
    return run_dir


COMPARISON = {"model": "tiny", "data": "qa.jsonl", "finetune": {"method": "qlora"}}
JOB = {"model": "tiny", "data": "qa.jsonl", "method": "lora"}


def test_a_multi_stage_run_shows_its_stage():
    status = runs.RunStatus(kind="compare", state="running", stage="train", step=3, total_steps=12, loss=1.5,
                            stages={"split": "completed", "index": "completed", "train": "running", "base": "pending"})
    assert progress_line(status) == "running   stage 3/4 train: 3/12 loss 1.5000"


def test_a_single_stage_run_shows_its_steps():
    status = runs.RunStatus(state="running", step=3, total_steps=12, eta_s=75)
    assert progress_line(status) == "running   step 3/12 (25%) eta 1:15"
    assert progress_line(runs.RunStatus(state="queued")) == "queued"


def test_a_failed_comparison_names_the_compare_command(tmp_path, capsys):
    run_dir = _run(tmp_path, "compare", COMPARISON, state="failed", error="out of memory", finished_at=1.0)
    assert follow(run_dir) == 1
    assert capsys.readouterr().err.startswith("ftadvisor compare: error: out of memory (log: ")


def test_a_failed_job_names_the_tune_command(tmp_path, capsys):
    run_dir = _run(tmp_path, "tune", JOB, state="failed", error="bad data")
    assert follow(run_dir) == 1
    assert capsys.readouterr().err.startswith("ftadvisor tune: error: bad data")


def test_a_completed_comparison_prints_its_table(tmp_path, capsys):
    run_dir = _run(tmp_path, "compare", COMPARISON, state="completed")
    (run_dir / "metrics.md").write_text("| arm | EM |\n")
    assert follow(run_dir) == 0
    assert capsys.readouterr().out.endswith("| arm | EM |\n")
    cancelled = _run(tmp_path, "tune", JOB, state="cancelled")
    assert follow(cancelled) == 1


def test_runs_list_and_show_give_a_comparison_its_method(tmp_path, capsys):
    run_dir = _run(tmp_path, "compare", COMPARISON, state="completed")
    assert main(["runs", "list", "--root", str(tmp_path)]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:3] == [run_dir.name, "compare", "completed"] and row[6] == "qlora"
    assert main(["runs", "show", str(run_dir)]) == 0
    assert "method qlora" in capsys.readouterr().out


def test_a_failed_runs_resume_names_the_runs_command(tmp_path, capsys, monkeypatch):
    run_dir = _run(tmp_path, "compare", COMPARISON, state="failed", error="killed")
    # a worker that fails again at once, through the real launcher (python -m MODULE RUN_DIR)
    worker = tmp_path / "failing_worker.py"
    worker.write_text("import sys\nimport runs\n"
                      "runs.update_status(sys.argv[1], state='failed', error='stage train failed again')\n")
    monkeypatch.setitem(runs.WORKERS, "compare", "failing_worker")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert main(["runs", "resume", str(run_dir)]) == 1
    assert "ftadvisor runs: error: stage train failed again" in capsys.readouterr().err
