"""Cancel and resume: a worker that ignores the cancel is ended with its whole tree; of two
resumes released together exactly one starts a worker and the other gets one clear line; a
second worker on a held run leaves it alone."""
import json
import subprocess
import sys
import threading

import psutil
import pytest

import runs
from tests.runs.fake_worker import FakeSpec, fake_workers, pgid_of
from tests.wait import wait_until


@pytest.mark.slow  # two cancels, each waits 5 s for SIGTERM before SIGKILL (~13 s)
def test_cancel_ends_a_worker_that_ignores_it_and_its_children(fake_kind):
    run_dir = fake_kind("stubborn")
    wait_until(lambda: runs.load_status(run_dir).pid is not None, what="worker pid in status.json")
    pgid = runs.load_status(run_dir).pgid
    wait_until(lambda: len([p for p in psutil.process_iter() if pgid_of(p) == pgid]) >= 3,
               what="sh, worker and child in the run's process group")
    status = runs.cancel(run_dir, grace_s=1.0)
    assert status.state == "cancelled" and "did not stop within 1 s" in status.error
    assert not [p for p in psutil.process_iter() if pgid_of(p) == pgid and p.status() != psutil.STATUS_ZOMBIE]
    assert runs.cancel_requested(run_dir)
    runs.resume(run_dir)  # resume clears the request and starts the worker again
    assert not runs.cancel_requested(run_dir)
    wait_until(lambda: runs.load_status(run_dir).pid is not None, what="resumed worker pid in status.json")
    runs.cancel(run_dir, grace_s=0.5)


def test_a_worker_that_honours_the_cancel_ends_cancelled_by_itself(fake_kind):
    run_dir = fake_kind("until_cancel")
    wait_until(lambda: runs.lock_holder(run_dir), what="worker holding the run")
    status = runs.cancel(run_dir, grace_s=20)
    assert status.state == "cancelled" and status.error is None


def _failed_run_that_would_sleep(fake_kind):
    run_dir = fake_kind("fail")
    assert runs.wait(run_dir, timeout_s=20, poll_s=0.05).state == "failed"
    spec = json.loads((run_dir / runs.SPEC_FILE).read_text())
    runs.write_atomic(run_dir / runs.SPEC_FILE, json.dumps(dict(spec, mode="sleep")))  # resumed, it stays
    return run_dir


def test_two_resumes_released_together_start_one_worker(fake_kind):
    run_dir = _failed_run_that_would_sleep(fake_kind)
    barrier, outcomes = threading.Barrier(2), []

    def resume():
        barrier.wait()
        try:
            runs.resume(run_dir)
            outcomes.append("started")
        except runs.RunsError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("started") == 1, outcomes
    [refused] = [o for o in outcomes if o != "started"]
    assert str(run_dir) in refused and "\n" not in refused and ("still queued" in refused or "worker" in refused)
    wait_until(lambda: runs.lock_holder(run_dir), what="worker holding the run")
    assert len(fake_workers(run_dir)) == 1


def test_resume_refuses_while_a_worker_holds_the_run(fake_kind):
    run_dir = fake_kind("sleep")
    wait_until(lambda: runs.lock_holder(run_dir), what="worker holding the run")
    with pytest.raises(runs.RunBusy, match=r"still has a worker \(pid \d+\): wait for it to end, or cancel it"):
        runs.resume(run_dir)
    assert len(fake_workers(run_dir)) == 1


def test_a_second_worker_on_a_held_run_leaves_it_alone(fake_kind):
    run_dir = fake_kind("sleep")
    # The lock is taken before status.json names the worker's pid: wait for both.
    wait_until(lambda: runs.lock_holder(run_dir) and runs.load_status(run_dir).pid, what="worker holding the run")
    before = runs.load_status(run_dir)
    second = subprocess.run([sys.executable, "-m", "fake_worker_mod", str(run_dir)], capture_output=True, text=True,
                            timeout=60)
    assert second.returncode == runs.EXIT_BUSY
    assert f"already has a worker (pid {before.pid})" in second.stderr
    assert runs.load_status(run_dir) == before  # status.json untouched


def test_a_run_created_but_never_started_can_be_resumed(fake_module, tmp_path):
    """A crash between creating the folder and starting its worker leaves it queued with no process."""
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "r"), mode="complete"))
    runs.resume(run_dir)
    assert runs.wait(run_dir, timeout_s=30, poll_s=0.05).state == "completed"
