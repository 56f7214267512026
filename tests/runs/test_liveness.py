"""A dead worker never leaves its run "running": a killed worker is marked failed with the
signal and its log, a reused pid does not count as alive, its running stage fails too; and a
child worker dies with its parent."""
import os
import signal
import subprocess
import sys
import textwrap

import psutil

import runs
from runs.liveness import PARENT_PID_ENV
from tests.runs.fake_worker import FakeSpec, fake_workers
from tests.wait import wait_until


def test_a_killed_worker_is_marked_failed_with_the_signal(fake_kind):
    run_dir = fake_kind("sleep")
    wait_until(lambda: "fake worker says hello" in runs.tail_log(run_dir), what="hello in the log")
    pid = runs.load_status(run_dir).pid
    assert runs.lock_holder(run_dir) == pid
    os.kill(pid, signal.SIGKILL)
    status = runs.wait(run_dir, timeout_s=10, poll_s=0.1)
    assert status.state == "failed"
    assert "killed by signal 9 (SIGKILL)" in status.error and "out-of-memory" in status.error
    assert "fake worker says hello" in status.error  # the log's last lines
    assert status.finished_at is not None and runs.lock_holder(run_dir) is None


def test_a_reused_pid_does_not_count_as_alive(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))
    me = psutil.Process()  # alive, but not the process that wrote status.json
    runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time() - 100)
    assert runs.refresh_status(run_dir).state == "failed"
    runs.update_status(run_dir, state="running", pid=me.pid, pid_create_time=me.create_time(), error=None)
    assert runs.refresh_status(run_dir).state == "running"


def test_a_run_marked_failed_fails_its_running_stage(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))
    runs.update_status(run_dir, state="running", pid=2**22 + 1, stage="base",
                       stages={"split": "completed", "base": "running", "results": "pending"})
    status = runs.refresh_status(run_dir)
    assert status.state == "failed" and "is gone and left no exit code" in status.error
    assert status.stages == {"split": "completed", "base": "failed", "results": "pending"}


def test_a_worker_holding_the_lock_is_alive_whatever_its_pid_says(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="x"))
    runs.update_status(run_dir, state="running", pid=2**22 + 1)  # a pid that is not running
    with runs.worker_lock(run_dir):
        assert runs.refresh_status(run_dir).state == "running"
    assert runs.refresh_status(run_dir).state == "failed"


PARENT = textwrap.dedent('''
    import sys, time
    import runs
    child = runs.start_child(sys.argv[1], sys.argv[2])
    print(child.pid, flush=True)
    time.sleep(600)
''')


def test_a_child_worker_dies_with_its_parent(fake_module, tmp_path):
    """The comparison's tuning child must not train on after the comparison worker is SIGKILLed."""
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "child"), mode="sleep"))
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(run_dir), fake_module], stdout=subprocess.PIPE,
                              text=True)
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        wait_until(lambda: runs.lock_holder(run_dir) == child.pid, what="child worker holding the run")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        wait_until(lambda: not fake_workers(run_dir), timeout_s=10, what="end of the child worker")
        assert runs.refresh_status(run_dir).state == "failed"
    finally:
        parent.kill()
        for proc in fake_workers(run_dir):
            proc.kill()


def test_a_child_whose_parent_is_already_gone_ends_at_once():
    code = "import runs.liveness as l; l.die_with_parent(); print('still here')"
    env = dict(os.environ, **{PARENT_PID_ENV: "1"})  # not our parent: as if it had died
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == -signal.SIGKILL and "still here" not in out.stdout
