"""status.json: atomic writes, read-change-write that loses no writer's change, a damaged file
named in the error, and a run that ends with its running stage."""
import threading

import pytest

import runs
from tests.runs.fake_worker import FakeSpec


def _run(tmp_path):
    return runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))


def test_status_writes_are_atomic(tmp_path):
    run_dir = _run(tmp_path)
    stop, errors = threading.Event(), []

    def writer():
        step = 0
        while not stop.is_set():
            step += 1
            runs.update_status(run_dir, step=step, detail={"pad": "x" * 5000})

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):
            try:
                runs.load_status(run_dir)
            except Exception as exc:  # a half-written file would fail to parse
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert not errors


def test_two_writers_of_different_fields_keep_both_changes(tmp_path):
    """The launcher records the process group while the worker records its pid and progress."""
    run_dir = _run(tmp_path)
    rounds = 200

    def write(**fields):
        for i in range(1, rounds + 1):
            runs.update_status(run_dir, **{k: v * i for k, v in fields.items()})

    threads = [threading.Thread(target=write, kwargs={"step": 1}), threading.Thread(target=write, kwargs={"pgid": 1}),
               threading.Thread(target=runs.merge_detail, args=(run_dir,), kwargs={"launcher": True})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    status = runs.load_status(run_dir)
    assert (status.step, status.pgid, status.detail) == (rounds, rounds, {"launcher": True})


@pytest.mark.parametrize("content, why", [
    ('{"kind": "tune", "state": "runn', "not whole JSON"),
    ('{"kind": "tune", "state": "exploded"}', "state: Input should be"),
])
def test_a_damaged_status_is_named_in_the_error(tmp_path, content, why):
    run_dir = _run(tmp_path)
    (run_dir / runs.STATUS_FILE).write_text(content)
    with pytest.raises(runs.RunDamaged) as caught:
        runs.refresh_status(run_dir)
    assert str(caught.value).startswith(f"{run_dir / runs.STATUS_FILE} is damaged (") and why in str(caught.value)


def test_a_folder_without_status_is_no_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a run folder"):
        runs.update_status(tmp_path, step=1)
    assert list(tmp_path.iterdir()) == []  # no lock file left in a folder that is no run


def test_a_run_that_ends_ends_its_running_stage_too():
    status = runs.RunStatus(state="running", stage="train", stages={"split": "completed", "train": "running",
                                                                    "results": "pending"})
    ended = status.ended("failed", "boom")
    assert ended.state == "failed" and ended.error == "boom" and ended.finished_at is not None
    assert ended.stages == {"split": "completed", "train": "failed", "results": "pending"}
