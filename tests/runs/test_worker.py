"""`run_worker`, the life every worker kind shares: running with its pid and the lock, then
completed, cancelled or failed with why (its running stage too), and the exit code."""
import os

import pytest

import runs
from tests.runs.fake_worker import FakeSpec


@pytest.fixture
def run_dir(tmp_path):
    return runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))


def test_a_job_runs_holding_the_lock_and_its_outcome_is_recorded(run_dir):
    seen = {}

    def job():
        seen["status"], seen["holder"] = runs.load_status(run_dir), runs.lock_holder(run_dir)
        return "cancelled"

    assert runs.run_worker(run_dir, job) == 0
    assert seen["status"].state == "running" and seen["status"].pid == os.getpid() == seen["holder"]
    status = runs.load_status(run_dir)
    assert status.state == "cancelled" and status.finished_at is not None and runs.lock_holder(run_dir) is None


def test_a_failure_is_recorded_with_why_and_its_stage(run_dir, capsys):
    def job():
        runs.update_status(run_dir, stage="index", stages={"split": "completed", "index": "running"})
        raise RuntimeError("the index exploded")

    assert runs.run_worker(run_dir, job) == 1
    status = runs.load_status(run_dir)
    assert status.state == "failed" and status.error == "RuntimeError: the index exploded"
    assert status.stages == {"split": "completed", "index": "failed"}
    assert "Traceback" in capsys.readouterr().err  # the log keeps the traceback


def test_a_user_error_keeps_its_own_message_and_explain_can_add_advice(run_dir):
    def job():
        raise MemoryError()

    assert runs.run_worker(run_dir, job, explain=lambda exc: f"out of memory ({type(exc).__name__})") == 1
    assert runs.load_status(run_dir).error == "out of memory (MemoryError)"
    assert (
        runs.describe_failure(ValueError("data.jsonl line 2: no 'completion'")) == "data.jsonl line 2: no 'completion'"
    )


def test_an_interrupt_exits_130(run_dir):
    def job():
        raise KeyboardInterrupt

    assert runs.run_worker(run_dir, job) == 130
    assert runs.load_status(run_dir).state == "failed"


def test_a_rank_other_than_0_neither_locks_nor_writes(run_dir):
    before, holders = runs.load_status(run_dir), []
    assert runs.run_worker(run_dir, lambda: holders.append(runs.lock_holder(run_dir)) or "completed", writer=False) == 0
    assert holders == [None] and runs.load_status(run_dir) == before


def test_a_full_disk_fails_the_run_with_one_line_even_when_the_status_cannot_grow(small_disk, capsys):
    run_dir = runs.create_run(FakeSpec(output=str(small_disk / "r"), mode="x"))

    def job():
        runs.update_status(run_dir, stage="train", stages={"train": "running"})
        with open(run_dir / "checkpoint.bin", "wb", buffering=0) as fh:  # fills the disk, and stays
            while True:
                fh.write(b"\0" * 4096)

    assert runs.run_worker(run_dir, job) == 1
    status = runs.load_status(run_dir)
    assert status.state == "failed" and status.stages == {"train": "failed"}
    assert status.error == (f"cannot write in {run_dir}: No space left on device: free space on that disk (or "
                            "choose another output folder) and resume the run")
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_run_whose_disk_fills_is_failed_and_shown_by_the_cli(small_disk, fake_kind, capsys):
    from cli.main import main
    from tests.wait import wait_until

    run_dir = runs.launch(FakeSpec(output=str(small_disk / "r"), mode="fill"))
    wait_until(lambda: runs.refresh_status(run_dir).done, what="end of the run")
    assert runs.load_status(run_dir).error.startswith(f"cannot write in {run_dir}: No space left on device")
    assert main(["runs", "show", str(run_dir)]) == 0
    assert "state failed" in capsys.readouterr().out
    assert main(["runs", "list", "--root", str(small_disk)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:3] == ["r", "fake", "failed"]
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]
