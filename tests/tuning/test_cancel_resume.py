"""Cancel stops at the end of a step with a checkpoint; resume finishes with the expected step
count; a SIGKILLed worker is detected as failed. Real detached workers, driven through the CLI."""
import os
import signal
import time

import pytest

from cli.main import main
import runs

pytestmark = pytest.mark.slow


def _wait_step(run_dir, step, timeout_s=120):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        status = runs.refresh_status(run_dir)
        assert not status.done, status.error
        if status.step >= step:
            return status
        time.sleep(0.05)
    raise AssertionError(f"no step {step} within {timeout_s} s: {runs.tail_log(run_dir)}")


def test_cancel_then_resume_finishes_with_the_expected_step_count(tiny_model_dir, sft_data, tmp_path, capsys):
    run_dir = tmp_path / "run"
    total = 50  # more than can run before the cancel lands (status.json is rewritten every 0.5 s)
    assert main(["tune", "--model", str(tiny_model_dir), "--data", str(sft_data), "--max-steps", str(total),
                 "--batch-size", "2", "--logging-steps", "10", "--save-steps", "1000", "--no-near-dup",
                 "--output", str(run_dir), "--detach"]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir)
    _wait_step(run_dir, 3)
    assert main(["runs", "cancel", str(run_dir)]) == 0
    status = runs.refresh_status(run_dir)
    assert status.state == "cancelled" and status.error is None  # it stopped itself, cleanly
    assert 3 <= status.step < total
    assert (run_dir / "checkpoints" / f"checkpoint-{status.step}").exists()
    assert not runs.group_alive(status.pgid)

    assert main(["runs", "resume", str(run_dir)]) == 0  # blocks until the end
    status = runs.refresh_status(run_dir)
    assert status.state == "completed" and status.step == status.total_steps == total
    assert (run_dir / "adapter" / "adapter_config.json").exists()
    steps = [m["step"] for m in runs.read_metrics(run_dir) if "loss" in m]
    assert steps == sorted(steps) and steps[-1] == total


def test_a_sigkilled_worker_is_detected_as_failed(tiny_model_dir, sft_data, tmp_path):
    from tuning.spec import JobSpec

    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "run"), max_steps=5000,
                   batch_size=2, near_dup_threshold=None)
    run_dir = runs.launch(spec)
    status = _wait_step(run_dir, 2)
    os.kill(status.pid, signal.SIGKILL)
    status = runs.wait(run_dir, timeout_s=20, poll_s=0.1)
    assert status.state == "failed" and "signal 9 (SIGKILL)" in status.error
