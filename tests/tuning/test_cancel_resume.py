"""Cancel stops at the end of a step with a complete checkpoint; resume finishes with the expected
step count; a SIGKILLed worker is detected as failed, and its run resumes from the newest
complete checkpoint (a half-written one passed over) with no step logged twice. Real detached
workers, driven through the CLI and `runs`."""
import os
import signal

import pytest

import runs
from cli.main import main
from tests.wait import wait_until
from tuning import checkpoints

pytestmark = pytest.mark.slow


def _wait_logged(run_dir, step):
    """The status once metrics.jsonl has a row for `step` (rows are appended every logged step)."""
    def logged():
        status = runs.refresh_status(run_dir)
        assert not status.done, status.error
        newest = max((m["step"] for m in runs.read_metrics(run_dir) if "loss" in m), default=0)
        return status if newest >= step else None

    return wait_until(logged, timeout_s=120, what=f"step {step} logged", detail=lambda: runs.tail_log(run_dir))


def _loss_steps(run_dir):
    return [m["step"] for m in runs.read_metrics(run_dir) if "loss" in m]


def test_cancel_then_resume_finishes_with_the_expected_step_count(tiny_model_dir, sft_data, tmp_path, capsys):
    run_dir = tmp_path / "run"
    total = 50  # more than can run before the cancel lands (status.json is rewritten every 0.5 s)
    assert main(["tune", "--model", str(tiny_model_dir), "--data", str(sft_data), "--max-steps", str(total),
                 "--batch-size", "2", "--logging-steps", "10", "--save-steps", "1000", "--no-near-dup",
                 "--output", str(run_dir), "--detach"]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir)
    _wait_logged(run_dir, 1)
    assert main(["runs", "cancel", str(run_dir)]) == 0
    status = runs.refresh_status(run_dir)
    assert status.state == "cancelled" and status.error is None  # it stopped itself, cleanly
    assert 1 <= status.step < total
    assert checkpoints.marker_of(run_dir / "checkpoints" / f"checkpoint-{status.step}")["step"] == status.step
    assert not runs.group_alive(status.pgid)

    assert main(["runs", "resume", str(run_dir)]) == 0  # blocks until the end
    status = runs.refresh_status(run_dir)
    assert status.state == "completed" and status.step == status.total_steps == total
    assert status.detail["resumed_from"] == f"checkpoint-{status.detail['resumed_step']}"
    assert (run_dir / "adapter" / "adapter_config.json").exists()
    steps = _loss_steps(run_dir)
    assert steps == sorted(set(steps)) and steps[-1] == total
    assert len([m for m in runs.read_metrics(run_dir) if "train_runtime_s" in m]) == 1


def test_a_sigkilled_run_resumes_from_its_newest_complete_checkpoint(tiny_model_dir, sft_data, tmp_path):
    from tuning.spec import JobSpec

    total = 60
    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "run"), max_steps=total,
                   batch_size=2, logging_steps=1, save_steps=5, near_dup_threshold=None)
    run_dir = runs.launch(spec)
    status = _wait_logged(run_dir, 12)
    os.kill(status.pid, signal.SIGKILL)  # the worker alone, as the out-of-memory killer does
    status = runs.wait(run_dir, timeout_s=20, poll_s=0.1)
    assert status.state == "failed" and "signal 9 (SIGKILL)" in status.error
    logged = _loss_steps(run_dir)
    # A kill during the save of the newest checkpoint: its weights gone, no marker.
    newest = checkpoints.checkpoint_folders(run_dir)[-1]
    (newest / checkpoints.MARKER).unlink(missing_ok=True)
    (newest / "adapter_model.safetensors").unlink(missing_ok=True)
    expected = checkpoints.last_complete(run_dir)

    runs.resume(run_dir)
    status = runs.wait(run_dir, timeout_s=240, poll_s=0.2)
    assert status.state == "completed" and status.step == status.total_steps == total, status.error
    log = (run_dir / runs.LOG_FILE).read_text()
    if expected is None:
        assert "no complete checkpoint is left: the run restarts from step 0" in log
    else:
        step = checkpoints.step_of(expected)
        assert f"resuming from the newest complete checkpoint, checkpoints/{expected.name} (step {step})" in log
        assert status.detail["resumed_from"] == expected.name and logged[-1] > step  # rows were re-logged
    assert f"removed incomplete {newest.name}" in log
    assert _loss_steps(run_dir) == list(range(1, total + 1))  # every step once: none lost, none twice
