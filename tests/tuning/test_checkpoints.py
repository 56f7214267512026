"""Which checkpoints are whole, and where a resumed run continues: a half-written newest
checkpoint is passed over (and removed), the metrics an earlier attempt logged after the chosen
checkpoint are dropped, and the log and status say where the run continues. No torch: the
checkpoints are folders written here the way the Trainer lays them out."""
import json

import pytest

import runs
from tuning import checkpoints
from tuning.spec import JobSpec


@pytest.fixture
def run_dir(tmp_path):
    return runs.create_run(JobSpec(model="m", data="d.jsonl", output=str(tmp_path / "run")))


def save(run_dir, step, *, complete=True):
    """checkpoints/checkpoint-STEP as the Trainer writes it, marked complete (as on_save does) or not."""
    folder = run_dir / checkpoints.CHECKPOINTS / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"w" * 1000)
    (folder / "optimizer.pt").write_bytes(b"o" * 2000)
    (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    if complete:
        checkpoints.mark_complete(folder, step)
    return folder


def log_steps(run_dir, steps, **extra):
    for step in steps:
        runs.append_metrics(run_dir, {"step": step, "loss": 1.0 / step, "time": 0.0, **extra})


def test_a_checkpoint_is_complete_only_with_its_marker_and_every_file_whole(run_dir):
    whole = save(run_dir, 10)
    assert checkpoints.marker_of(whole)["step"] == 10
    assert checkpoints.marker_of(save(run_dir, 20, complete=False)) is None  # a kill before the marker
    cut = save(run_dir, 30)
    (cut / "optimizer.pt").write_bytes(b"o" * 10)  # a file cut short after the marker was written
    assert checkpoints.marker_of(cut) is None
    gone = save(run_dir, 40)
    (gone / "adapter_model.safetensors").unlink()  # the rotation's deletion cut short
    assert checkpoints.marker_of(gone) is None
    assert checkpoints.last_complete(run_dir) == whole


def test_resume_passes_over_a_half_written_newest_checkpoint_and_says_which(run_dir, capsys):
    save(run_dir, 5)
    save(run_dir, 10)
    half = save(run_dir, 15, complete=False)
    log_steps(run_dir, range(1, 18))  # the earlier attempt logged up to step 17 before it died
    chosen = checkpoints.resume_point(run_dir)
    assert chosen == str(run_dir / "checkpoints" / "checkpoint-10") and not half.exists()
    out = capsys.readouterr().out
    assert "resuming from the newest complete checkpoint, checkpoints/checkpoint-10 (step 10)" in out
    assert "removed incomplete checkpoint-15" in out and "dropped 7 metrics.jsonl row(s)" in out
    assert [m["step"] for m in runs.read_metrics(run_dir)] == list(range(1, 11))
    detail = runs.load_status(run_dir).detail
    assert (detail["resumed_from"], detail["resumed_step"]) == ("checkpoint-10", 10)


def test_rows_logged_after_the_checkpoint_at_its_own_step_are_dropped(run_dir):
    """A cancel at step 10: the step's loss row is logged before checkpoint-10 is saved, the
    end-of-training summary after it (the resumed run writes its own)."""
    log_steps(run_dir, range(1, 11))
    saved_at = checkpoints.marker_of(save(run_dir, 10))["saved_at"]
    runs.append_metrics(run_dir, {"step": 10, "time": saved_at + 1, "train_runtime_s": 3.0})
    checkpoints.resume_point(run_dir)
    rows = runs.read_metrics(run_dir)
    assert [m["step"] for m in rows] == list(range(1, 11)) and not [m for m in rows if "train_runtime_s" in m]


def test_with_no_complete_checkpoint_the_run_says_it_restarts_from_step_0(run_dir, capsys):
    save(run_dir, 5, complete=False)
    log_steps(run_dir, range(1, 8))
    runs.update_status(run_dir, step=7)
    assert checkpoints.resume_point(run_dir) is None
    assert "no complete checkpoint is left: the run restarts from step 0" in capsys.readouterr().out
    assert runs.read_metrics(run_dir) == [] and not (run_dir / "checkpoints" / "checkpoint-5").exists()
    assert runs.load_status(run_dir).detail["resumed_step"] == 0


def test_a_first_start_says_nothing_and_another_rank_only_reads(run_dir, capsys):
    assert checkpoints.resume_point(run_dir) is None
    assert capsys.readouterr().out == "" and "resumed_step" not in runs.load_status(run_dir).detail
    save(run_dir, 5)
    half = save(run_dir, 10, complete=False)
    assert checkpoints.resume_point(run_dir, writer=False).endswith("checkpoint-5")
    assert half.exists() and capsys.readouterr().out == ""


def test_a_marker_that_lists_no_file_marks_nothing_complete(run_dir):
    folder = run_dir / checkpoints.CHECKPOINTS / "checkpoint-5"
    folder.mkdir(parents=True)
    checkpoints.mark_complete(folder, 5)
    assert checkpoints.marker_of(folder) is None and checkpoints.last_complete(run_dir) is None
