"""Run folders for any worker kind, with a small stand-in worker (no torch): detached launch,
atomic status, liveness (killed process, reused pid), cancel that ends the whole process tree."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest
from pydantic import BaseModel

from tuning import runs
from tuning.errors import TuningError

FAKE_WORKER = textwrap.dedent('''
    import os, signal, subprocess, sys, time
    import psutil
    from tuning import runs
    run_dir = sys.argv[1]
    me = psutil.Process()
    runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time())
    mode = runs.read_spec(run_dir)["mode"]
    print("fake worker says hello", flush=True)
    if mode == "complete":
        runs.update_status(run_dir, state="completed", step=3, total_steps=3)
    elif mode == "stubborn":  # ignores SIGTERM and the cancel request, and has a child
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        time.sleep(600)
    else:
        time.sleep(600)
''')


class FakeSpec(BaseModel):
    kind: str = "fake"
    output: str
    mode: str


@pytest.fixture
def fake_kind(tmp_path, monkeypatch):
    (tmp_path / "fake_worker_mod.py").write_text(FAKE_WORKER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setitem(runs.WORKERS, "fake", "fake_worker_mod")
    return lambda mode, name="run": runs.launch(FakeSpec(output=str(tmp_path / name), mode=mode))


def wait_for(predicate, timeout_s=20.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_any_kind_launches_detached_with_its_output_in_the_log(fake_kind):
    run_dir = fake_kind("complete")
    status = runs.wait(run_dir, timeout_s=20, poll_s=0.1)
    assert status.state == "completed" and status.kind == "fake" and status.step == 3
    assert status.pgid != os.getpgid(0)  # its own process group: our exit or Ctrl-C does not reach it
    assert "fake worker says hello" in (run_dir / "log.txt").read_text()
    wait_for(lambda: (run_dir / runs.EXIT_CODE_FILE).exists())
    assert (run_dir / runs.EXIT_CODE_FILE).read_text().strip() == "0"
    with pytest.raises(TuningError, match="already holds a run"):
        runs.launch(FakeSpec(output=str(run_dir), mode="complete"))
    with pytest.raises(TuningError, match="nothing to resume"):
        runs.resume(run_dir)


def test_a_killed_worker_is_marked_failed_with_the_signal(fake_kind):
    run_dir = fake_kind("sleep")
    wait_for(lambda: runs.read_status(run_dir).pid is not None)
    os.kill(runs.read_status(run_dir).pid, signal.SIGKILL)
    status = runs.wait(run_dir, timeout_s=10, poll_s=0.1)
    assert status.state == "failed"
    assert "killed by signal 9 (SIGKILL)" in status.error and "out-of-memory" in status.error
    assert "fake worker says hello" in status.error  # the log's last lines
    assert status.finished_at is not None


def test_a_reused_pid_does_not_count_as_alive(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))
    me = psutil.Process()  # alive, but not the process that wrote status.json
    runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time() - 100)
    assert runs.read_status(run_dir).state == "failed"
    runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time(), error=None)
    assert runs.read_status(run_dir).state == "running"


def test_cancel_ends_a_worker_that_ignores_it_and_its_children(fake_kind):
    run_dir = fake_kind("stubborn")
    wait_for(lambda: runs.read_status(run_dir).pid is not None)
    pgid = runs.read_status(run_dir).pgid
    wait_for(lambda: len([p for p in psutil.process_iter() if _pgid(p) == pgid]) >= 3)  # sh, worker, child
    status = runs.cancel(run_dir, grace_s=1.0)
    assert status.state == "cancelled" and "did not stop within 1 s" in status.error
    assert not [p for p in psutil.process_iter() if _pgid(p) == pgid and p.status() != psutil.STATUS_ZOMBIE]
    assert runs.cancel_requested(run_dir)
    runs.resume(run_dir)  # resume clears the request and starts the worker again
    assert not runs.cancel_requested(run_dir)
    wait_for(lambda: runs.read_status(run_dir).pid is not None)
    runs.cancel(run_dir, grace_s=0.5)


def _pgid(proc):
    try:
        return os.getpgid(proc.pid)
    except (ProcessLookupError, PermissionError):
        return None


def test_status_writes_are_atomic(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))
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
                runs.read_status(run_dir)
            except Exception as exc:  # a half-written file would fail to parse
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert not errors


def test_list_runs_newest_first_with_last_figures(tmp_path):
    for name in ("a", "b"):
        run_dir = runs.create_run(FakeSpec(output=str(tmp_path / name), mode="x"))
        runs.append_metrics(run_dir, {"step": 1, "loss": 2.0})
        runs.append_metrics(run_dir, {"step": 2, "loss": 1.5, "eval_loss": 1.7})
        time.sleep(0.01)
    listed = runs.list_runs(tmp_path)
    assert [os.path.basename(r.run_dir) for r in listed] == ["b", "a"]
    assert (listed[0].final_loss, listed[0].eval_loss, listed[0].kind) == (1.5, 1.7, "fake")


def test_the_launcher_imports_no_torch():
    code = "import sys, tuning.runs, tuning.launch, tuning.spec, cli.runs, cli.tune; " \
           "print(sorted({'torch', 'transformers', 'trl', 'peft'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_write_atomic_makes_the_folder_and_leaves_no_temporary_file(tmp_path):
    path = runs.write_atomic(tmp_path / "answers" / "base.jsonl", "{}\n")
    assert path.read_text() == "{}\n" and [p.name for p in path.parent.iterdir()] == ["base.jsonl"]
