"""The worker records how a run ended: a failure with its reason and the stage it failed in, a
cancel requested before a stage starts (in-process and quick: both end in the split stage).
The train sub-run never gets a second worker: a resume refuses while one holds train/, and a
SIGKILLed comparison worker takes its tuning child with it (a real run, slow)."""
from __future__ import annotations

import json
import os
import signal

import psutil
import pytest

import runs
from common.pause import PAUSE_ENV, go_file, paused_file
from compare.adapters import Adapter
from compare.finetune_setup import job_spec
from compare.pipeline import Pipeline
from compare.spec import CompareSpec
from compare.stages import train
from compare.worker import run
from tests.wait import wait_until

MAX_STEPS = 40


def _run_dir(qa_file, tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a model folder (nothing is loaded before split fails)
    spec = CompareSpec(data=qa_file, model=str(tmp_path), output=tmp_path / "run", arms=["base"])
    return runs.create_run(spec)


def test_a_failure_is_recorded_with_its_reason_and_stage(qa_file, tmp_path):
    run_dir = _run_dir(qa_file, tmp_path)
    qa_file.write_text('{"question": "q1", "answer": "a1"}\n{"question": "q2"}\n')  # changed after launch
    assert run(run_dir) == 1
    status = runs.refresh_status(run_dir)
    assert status.state == "failed" and status.stage == "split"
    assert status.stages == {"split": "failed", "base": "pending", "costs": "pending", "results": "pending"}
    assert "qa.jsonl line 2" in status.error and "'answer'" in status.error


def test_a_cancel_request_stops_before_the_next_stage(qa_file, tmp_path):
    run_dir = _run_dir(qa_file, tmp_path)
    (run_dir / runs.CANCEL_FILE).write_text("now")
    assert run(run_dir) == 0
    status = runs.refresh_status(run_dir)
    assert status.state == "cancelled" and status.stages["split"] == "cancelled"
    assert not (run_dir / "split.json").exists()


def test_resume_refuses_to_start_a_second_worker_on_train(qa_file, tmp_path, monkeypatch):
    pipeline = Pipeline(_run_dir(qa_file, tmp_path))
    adapter = Adapter("train", "bare", ("finetuned",))
    # as write_training_file leaves it:
    pipeline.path(adapter.data_file).write_text('{"prompt": "q", "completion": "a"}\n')
    train_dir = runs.create_run(job_spec(pipeline, adapter), pipeline.path(adapter.name))
    monkeypatch.setattr(train, "CHILD_EXIT_WAIT_S", 0.2)
    with runs.worker_lock(train_dir):  # a tuning worker still training there
        runs.update_status(train_dir, state="running", pid=os.getpid())
        with pytest.raises(runs.RunBusy, match=rf"{train_dir} still has a worker \(pid {os.getpid()}\)"):
            train.prepare_sub_run(pipeline, adapter)
        assert runs.load_status(train_dir).state == "running"  # left as it was


def _tuning_workers(train_dir) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmd = proc.info["cmdline"] or []
        if cmd[1:] == ["-m", "tuning.worker", str(train_dir)] and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def _launch_held(spec, point, monkeypatch, where=".", check=None):
    """The comparison launched with `point` held (`common.pause`), once a process is held there in
    the run's folder `where`; `check(folder, pid)` runs then. On any failure the point is let go:
    a process held after the test would wait forever."""
    monkeypatch.setenv(PAUSE_ENV, point)
    run_dir = runs.launch(spec)
    folder = run_dir / where

    def held() -> bool:
        status = runs.refresh_status(run_dir)
        assert not status.done, f"the comparison ended ({status.state}) before {point}: {status.error}"
        return paused_file(point, folder).exists()

    try:
        wait_until(held, timeout_s=240, what=f"a process held at {point} in {folder}",
                   detail=lambda: runs.tail_log(run_dir))
        if check is not None:
            check(folder, int(paused_file(point, folder).read_text()))
    except BaseException:
        if folder.is_dir():
            go_file(point, folder).touch()
        raise
    return run_dir


@pytest.mark.slow
def test_a_sigkilled_comparison_worker_takes_its_training_child_with_it(qa_file, tiny_model_dir, tmp_path,
                                                                        monkeypatch):
    """SIGKILL the comparison worker during train, resume: its training child must die with it
    (had it lived on, it would train beside the new one: "step 4 of 3", every step logged twice).
    The child is held between its steps 2 and 3 (`common.pause`) when its parent is killed."""
    spec = CompareSpec(data=qa_file, model=str(tiny_model_dir), output=tmp_path / "run", arms=["finetuned"],
                       eval_fraction=0.25, generation={"max_new_tokens": 4},
                       finetune={"method": "lora", "max_steps": MAX_STEPS, "batch_size": 2})
    child = []

    def one_tuning_child(train_dir, pid):
        child.extend(_tuning_workers(train_dir))
        assert [c.pid for c in child] == [pid]

    run_dir = _launch_held(spec, "tune-step-2", monkeypatch, "train", check=one_tuning_child)  # the child is held
    train_dir = run_dir / "train"
    os.kill(runs.load_status(run_dir).pid, signal.SIGKILL)  # never let go: it dies held
    wait_until(lambda: not _tuning_workers(train_dir), timeout_s=10,
               what=f"end of the tuning child {[c.pid for c in child]}")
    assert runs.wait(run_dir, timeout_s=20, poll_s=0.1).state == "failed"

    monkeypatch.delenv(PAUSE_ENV)
    runs.resume(run_dir)
    workers_seen = []

    def trained() -> bool:
        if (run_dir / "train.json").exists():
            return True
        workers_seen.append(len(_tuning_workers(train_dir)))
        status = runs.refresh_status(run_dir)
        assert not status.done, status.error
        return False

    wait_until(trained, timeout_s=300, what="train.json after the resume")
    runs.cancel(run_dir, grace_s=60)  # what follows train is not this test's business
    assert max(workers_seen, default=0) == 1
    assert json.loads((run_dir / "train.json").read_text())["steps"] == MAX_STEPS
    child_status = runs.load_status(train_dir)
    assert child_status.state == "completed" and child_status.step == child_status.total_steps == MAX_STEPS
    steps = [m["step"] for m in runs.read_metrics(train_dir) if "loss" in m]
    assert steps == sorted(set(steps)) and steps[-1] == MAX_STEPS
    assert len([m for m in runs.read_metrics(train_dir) if "train_runtime_s" in m]) == 1


@pytest.mark.slow
def test_a_run_killed_mid_answering_resumes_without_generating_an_answer_twice(qa_file, tiny_model_dir, tmp_path,
                                                                              monkeypatch):
    """Held after its first batch of 2 answers is cached (`common.pause`), the worker is SIGKILLed;
    the resumed run generates the other 4 and the latency sample of 3 alone, and every answer is
    in the cache once."""
    spec = CompareSpec(data=qa_file, model=str(tiny_model_dir), output=tmp_path / "run", arms=["base"],
                       eval_fraction=0.25, generation={"max_new_tokens": 4, "batch_size": 2})
    run_dir = _launch_held(spec, "answer-base-batch-1", monkeypatch)
    os.kill(int(paused_file("answer-base-batch-1", run_dir).read_text()), signal.SIGKILL)
    assert runs.wait(run_dir, timeout_s=20, poll_s=0.1).state == "failed"
    cache = run_dir / "answers" / "cache.jsonl"
    assert len(cache.read_text().splitlines()) == 2

    monkeypatch.delenv(PAUSE_ENV)
    runs.resume(run_dir)
    status = runs.wait(run_dir, timeout_s=240, poll_s=0.1)
    assert status.state == "completed", status.error
    assert "base: 2 answers from the run's cache, 7 generated" in runs.tail_log(run_dir, 200)
    keys = [json.loads(line)["key"] for line in cache.read_text().splitlines()]
    assert len(keys) == len(set(keys)) == 6 + 3
    assert [json.loads(line)["id"] for line in (run_dir / "answers" / "base.jsonl").read_text().splitlines()] == [
        0, 1, 2, 3, 4, 5]
