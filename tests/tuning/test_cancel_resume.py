"""Cancel stops at the end of a step with a complete checkpoint; resume finishes with the expected
step count; a SIGKILLed worker is detected as failed, and its run resumes from the newest
complete checkpoint (a half-written one passed over) with no step logged twice. Real detached
workers, driven through the CLI and `runs`, held at a known step by a pause point
(`common.pause`) while the test cancels or kills: where the worker is when it happens is known."""
import os
import signal

import pytest

import runs
from cli.main import main
from common.pause import PAUSE_ENV, go_file, paused_file
from tests.wait import wait_until
from tuning import checkpoints

pytestmark = pytest.mark.slow


def _held_at(run_dir, point) -> int:
    """The pid of the worker once it is held at `point`. One that never gets there is let go on
    (held after the test, it would wait forever); one that ends first is said at once."""
    def held():
        status = runs.refresh_status(run_dir)
        assert not status.done, f"the worker ended ({status.state}) before {point}: {status.error}"
        return paused_file(point, run_dir).exists()

    try:
        wait_until(held, timeout_s=120, what=f"worker held at {point}", detail=lambda: runs.tail_log(run_dir))
    except BaseException:
        go_file(point, run_dir).touch()
        raise
    return int(paused_file(point, run_dir).read_text())


def _loss_steps(run_dir):
    return [m["step"] for m in runs.read_metrics(run_dir) if "loss" in m]


def _checkpoint_names(run_dir):
    return [folder.name for folder in checkpoints.checkpoint_folders(run_dir)]


def test_cancel_then_resume_finishes_with_the_expected_step_count(tiny_model_dir, sft_data, tmp_path, capsys,
                                                                  monkeypatch):
    run_dir, total = tmp_path / "run", 8
    monkeypatch.setenv(PAUSE_ENV, "tune-step-2")
    assert main(["tune", "--model", str(tiny_model_dir), "--data", str(sft_data), "--max-steps", str(total),
                 "--batch-size", "2", "--logging-steps", "1", "--save-steps", "1000", "--no-near-dup",
                 "--output", str(run_dir), "--detach"]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir)
    _held_at(run_dir, "tune-step-2")
    runs.request_cancel(run_dir)  # before step 3 begins: honoured at its end
    go_file("tune-step-2", run_dir).touch()
    assert main(["runs", "cancel", str(run_dir)]) == 0  # waits for the worker's end
    status = runs.refresh_status(run_dir)
    assert status.state == "cancelled" and status.error is None  # it stopped itself, cleanly
    assert status.step == 3 and _loss_steps(run_dir) == [1, 2, 3]
    assert _checkpoint_names(run_dir) == ["checkpoint-3"]  # the cancel's save (no regular one before step 1000)
    assert checkpoints.marker_of(run_dir / "checkpoints" / "checkpoint-3")["step"] == 3
    assert not runs.group_alive(status.pgid)

    monkeypatch.delenv(PAUSE_ENV)
    assert main(["runs", "resume", str(run_dir)]) == 0  # blocks until the end
    status = runs.refresh_status(run_dir)
    assert status.state == "completed" and status.step == status.total_steps == total
    assert status.detail["resumed_from"] == "checkpoint-3" and status.detail["resumed_step"] == 3
    assert (run_dir / "adapter" / "adapter_config.json").exists()
    assert _loss_steps(run_dir) == list(range(1, total + 1))  # every step once
    assert len([m for m in runs.read_metrics(run_dir) if "train_runtime_s" in m]) == 1


def test_a_sigkilled_run_resumes_from_its_newest_complete_checkpoint(tiny_model_dir, sft_data, tmp_path, monkeypatch):
    from tuning.spec import JobSpec

    total = 20
    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "run"), max_steps=total,
                   batch_size=2, logging_steps=1, save_steps=5, near_dup_threshold=None)
    monkeypatch.setenv(PAUSE_ENV, "tune-step-12")
    run_dir = runs.launch(spec)
    pid = _held_at(run_dir, "tune-step-12")
    assert pid == runs.load_status(run_dir).pid
    # Held between steps 12 and 13: checkpoints 5 and 10 are whole, steps 1-12 logged.
    assert _checkpoint_names(run_dir) == ["checkpoint-5", "checkpoint-10"]
    assert checkpoints.last_complete(run_dir).name == "checkpoint-10"
    assert _loss_steps(run_dir) == list(range(1, 13))
    os.kill(pid, signal.SIGKILL)  # the worker alone, as the out-of-memory killer does
    status = runs.wait(run_dir, timeout_s=20, poll_s=0.1)
    assert status.state == "failed" and "signal 9 (SIGKILL)" in status.error
    # As a kill during the save of checkpoint-10 would have left it: its weights gone, no marker.
    newest = run_dir / "checkpoints" / "checkpoint-10"
    (newest / checkpoints.MARKER).unlink()
    (newest / "adapter_model.safetensors").unlink()
    assert checkpoints.last_complete(run_dir).name == "checkpoint-5"

    monkeypatch.delenv(PAUSE_ENV)
    runs.resume(run_dir)
    status = runs.wait(run_dir, timeout_s=240, poll_s=0.2)
    assert status.state == "completed" and status.step == status.total_steps == total, status.error
    log = (run_dir / runs.LOG_FILE).read_text()
    assert "resuming from the newest complete checkpoint, checkpoints/checkpoint-5 (step 5)" in log
    assert "removed incomplete checkpoint-10" in log and "dropped 7 metrics.jsonl row(s)" in log  # steps 6-12
    assert status.detail["resumed_from"] == "checkpoint-5"
    assert _loss_steps(run_dir) == list(range(1, total + 1))  # every step once: none lost, none twice
