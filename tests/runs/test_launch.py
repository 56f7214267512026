"""Creating run folders and starting workers: detached with its output in the log, one run per
folder, the worker command, and a launcher that imports no torch."""
import os
import subprocess
import sys

import pytest

import runs
from tests.runs.fake_worker import FakeSpec
from tests.wait import wait_until


def test_any_kind_launches_detached_with_its_output_in_the_log(fake_kind):
    run_dir = fake_kind("complete")
    status = runs.wait(run_dir, timeout_s=20, poll_s=0.1)
    assert status.state == "completed" and status.kind == "fake" and status.step == 3
    assert status.pgid != os.getpgid(0)  # its own process group: our exit or Ctrl-C does not reach it
    assert "fake worker says hello" in (run_dir / "log.txt").read_text()
    wait_until(lambda: (run_dir / runs.EXIT_CODE_FILE).exists(), what="exit code file")
    assert (run_dir / runs.EXIT_CODE_FILE).read_text().strip() == "0"
    with pytest.raises(runs.RunsError, match="already holds a run"):
        runs.launch(FakeSpec(output=str(run_dir), mode="complete"))
    with pytest.raises(runs.RunsError, match="nothing to resume"):
        runs.resume(run_dir)


def test_a_worker_for_an_unknown_kind_is_refused(tmp_path):
    with pytest.raises(runs.RunsError, match="unknown run kind 'nope'"):
        runs.worker_command(tmp_path, {"kind": "nope"})


def test_a_child_exit_is_recorded_like_the_wrapper_does(tmp_path):
    runs.record_exit(tmp_path, -9)  # Popen's "killed by signal 9"
    assert (tmp_path / runs.EXIT_CODE_FILE).read_text().strip() == "137"
    runs.record_exit(tmp_path, 1)
    assert (tmp_path / runs.EXIT_CODE_FILE).read_text().strip() == "1"


def test_the_launcher_imports_no_torch():
    code = "import sys, runs, runs.accelerate, tuning.jobs, tuning.spec, cli.runs, cli.tune; " \
           "print(sorted({'torch', 'transformers', 'trl', 'peft'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
