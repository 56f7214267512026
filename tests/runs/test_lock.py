"""worker.lock: one holder at a time, across processes and threads; the kernel frees it when
the holder dies, even by SIGKILL; probing it never takes it from a worker."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import runs

HOLDER = textwrap.dedent('''
    import sys, time
    import runs
    with runs.worker_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(600)
''')


@pytest.fixture
def holder(tmp_path):
    """A process that holds tmp_path's worker lock until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_one_worker_lock_holder_at_a_time(tmp_path, holder):
    assert runs.lock_holder(tmp_path) == holder.pid
    with pytest.raises(runs.RunBusy, match=rf"already has a worker \(pid {holder.pid}\)"):
        with runs.worker_lock(tmp_path, wait_s=0.1):
            pass


def test_the_kernel_frees_the_lock_of_a_sigkilled_holder(tmp_path, holder):
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert runs.lock_holder(tmp_path) is None
    with runs.worker_lock(tmp_path, wait_s=0.1):
        assert runs.lock_holder(tmp_path) == os.getpid()  # another open file of ours still sees it held
    assert runs.lock_holder(tmp_path) is None


def test_no_lock_file_means_no_worker(tmp_path):
    assert runs.lock_holder(tmp_path) is None
    assert list(tmp_path.iterdir()) == []  # probing creates nothing
