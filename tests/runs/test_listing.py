"""`list_runs`: newest first with the last figures, and a damaged run listed as damaged."""
import os

import runs
from tests.runs.fake_worker import FakeSpec


def test_list_runs_newest_first_with_last_figures(tmp_path):
    for name, created_at in (("a", 1000.0), ("b", 2000.0), ("c", 1500.0)):
        run_dir = runs.create_run(FakeSpec(output=str(tmp_path / name), mode="x"))
        runs.update_status(run_dir, created_at=created_at)
        runs.append_metrics(run_dir, {"step": 1, "loss": 2.0})
        runs.append_metrics(run_dir, {"step": 2, "loss": 1.5, "eval_loss": 1.7})
    listed = runs.list_runs(tmp_path)
    assert [os.path.basename(r.run_dir) for r in listed] == ["b", "c", "a"]
    assert (listed[0].final_loss, listed[0].eval_loss, listed[0].kind, listed[0].state) == (1.5, 1.7, "fake", "queued")


def test_a_run_with_a_truncated_status_is_listed_as_damaged(tmp_path):
    good = runs.create_run(FakeSpec(output=str(tmp_path / "good"), mode="x"))
    bad = runs.create_run(FakeSpec(output=str(tmp_path / "bad"), mode="x"))
    text = (bad / runs.STATUS_FILE).read_text()
    (bad / runs.STATUS_FILE).write_text(text[: len(text) // 2])
    listed = {os.path.basename(r.run_dir): r for r in runs.list_runs(tmp_path)}
    assert set(listed) == {"good", "bad"} and listed["good"].damaged is None
    damaged = listed["bad"]
    assert damaged.state == "damaged" and damaged.kind == "fake"
    assert damaged.damaged.startswith(f"{bad / runs.STATUS_FILE} is damaged")
    assert damaged.status.state == "failed" and damaged.status.error == damaged.damaged  # a stand-in for old readers
    assert runs.list_runs(good)[0].state == "queued"  # a run folder given as the root lists itself


def _running_with_a_dead_worker(run_dir):
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    runs.update_status(run_dir, state="running", pid=gone.pid, pid_create_time=1.0, stage="train",
                       stages={"train": "running"})


def test_a_dead_run_on_a_read_only_disk_is_listed_failed_without_writing(small_disk):
    from tests.conftest import make_read_only

    run_dir = runs.create_run(FakeSpec(output=str(small_disk / "r"), mode="x"))
    _running_with_a_dead_worker(run_dir)
    make_read_only(small_disk)
    listed = runs.list_runs(small_disk)
    assert [(r.state, r.status.stages) for r in listed] == [("failed", {"train": "failed"})]
    assert listed[0].status.error.startswith("the worker process")
    assert listed[0].status.error.endswith(f"; {run_dir / runs.STATUS_FILE} could not be updated "
                                           "(Read-only file system)")
    assert runs.load_status(run_dir).state == "running"  # nothing was written


def test_a_status_that_cannot_be_read_is_listed_as_damaged_naming_it(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))
    (run_dir / runs.STATUS_FILE).unlink()
    (run_dir / runs.STATUS_FILE).mkdir()  # what no chmod can do to root: a read that fails
    listed = runs.list_runs(tmp_path)
    assert listed[0].state == "damaged"
    assert listed[0].damaged == f"{run_dir / runs.STATUS_FILE} cannot be read (Is a directory)"
