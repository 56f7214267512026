"""The fine-tune stages: each adapter (compare.adapters: `train/` for the
fine-tuned arm, `train_rag/` for the hybrid) is a tuning run in its sub-folder, run by the tuning
worker (`python -m tuning.worker RUN_DIR/train`) as a child of the comparison worker.

Why a sub-run and not the SFT recipe in-process:
- the measured peak memory is the training's alone: `memory.json` is written by a process that
  did nothing else (on CPU the peak RSS cannot be reset, and the answering stages before it
  load the model too), which is what the estimator's prediction is compared with;
- `train/` is an ordinary tuning run folder (spec, dataset report, status, metrics.jsonl, log,
  checkpoints, adapter), so `ftadvisor runs show RUN_DIR/train`, its loss curve and
  `PeftModel.from_pretrained(RUN_DIR/train/adapter)` work as for any tuning run;
- cancel and resume reuse the run machinery's: a cancel of the comparison is passed on as a
  cancel request to `train/` (a checkpoint is saved at the end of the step), and a resumed
  comparison restarts the tuning worker, which continues from its newest complete checkpoint.
The child (`runs.start_child`) stays in the comparison worker's process group, so a hard cancel
of the comparison (after the grace period) ends both, and the kernel kills it if the comparison
worker dies (SIGKILL, the OOM killer): a resume never finds a tuning worker still training.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import runs
from compare import files
from compare.adapters import Adapter, adapter_named
from compare.errors import Cancelled, CompareError
from compare.finetune_setup import epoch_steps, job_spec, training_rows, write_training_file
from compare.records import Split, TrainRecord

if TYPE_CHECKING:
    from compare.pipeline import Pipeline

CHILD_EXIT_WAIT_S = 10.0  # how long a resume waits for a tuning worker still on train/ to go


def prepare_sub_run(pipeline: Pipeline, adapter: Adapter) -> Path:
    """Create the sub-run (spec + queued status) or make a cancelled/failed one ready to resume;
    refuses (RunBusy) while a tuning worker still holds it."""
    train_dir = pipeline.path(adapter.name)
    if not (train_dir / runs.STATUS_FILE).exists():
        return runs.create_run(job_spec(pipeline, adapter), train_dir)
    if runs.refresh_status(train_dir).state != "completed":
        runs.reset_for_resume(train_dir, wait_s=CHILD_EXIT_WAIT_S)
        pipeline.log(f"{adapter.name}: resuming the sub-run in {train_dir} (from its newest complete checkpoint, "
                     "if any)")
    return train_dir


def _run_child(pipeline: Pipeline, train_dir: Path) -> tuple[runs.RunStatus, float]:
    """Run the tuning worker on train/ until it ends, mirroring its progress into our status
    and passing a cancel request on. Returns its final status and its training seconds."""
    child = runs.start_child(train_dir, runs.WORKERS["tune"])
    pipeline.log(f"train: tuning worker pid {child.pid} on {train_dir}")
    while child.poll() is None:
        if runs.cancel_requested(pipeline.run_dir) and not runs.cancel_requested(train_dir):
            runs.request_cancel(train_dir)
            pipeline.log("train: cancel passed on to the tuning worker (it stops after the current step)")
        child_status = runs.load_status(train_dir)
        pipeline.progress(child_status.step, child_status.total_steps, loss=child_status.loss,
                          eta_s=child_status.eta_s)
        time.sleep(0.3)
    runs.record_exit(train_dir, child.returncode)
    status = runs.refresh_status(train_dir)
    seconds = (status.finished_at or time.time()) - (status.started_at or time.time())
    return status, seconds


def run(pipeline: Pipeline, adapter: str) -> None:
    """The stage of the adapter named `adapter` (train, train_rag)."""
    train_adapter(pipeline, adapter_named(pipeline.spec, adapter))


def train_adapter(pipeline: Pipeline, adapter: Adapter) -> None:
    """Train (or resume training) one adapter; <name>.json holds time, steps and memory."""
    if not pipeline.path(adapter.data_file).exists():  # written once: a resumed run trains on the same rows
        write_training_file(pipeline, adapter)
    train_dir = prepare_sub_run(pipeline, adapter)
    spent = _seconds_so_far(train_dir)
    if runs.load_status(train_dir).state != "completed":
        status, seconds = _run_child(pipeline, train_dir)
        spent += seconds
        (train_dir / "compare_seconds.json").write_text(json.dumps({"seconds": spent}))
    status = runs.load_status(train_dir)
    if status.state == "cancelled":
        raise Cancelled()
    if status.state != "completed":
        raise CompareError(f"training failed ({train_dir}): {status.error or status.state}")
    adapter_dir = train_dir / "adapter"
    if not (adapter_dir / "adapter_config.json").exists():
        raise CompareError(f"training finished but left no adapter in {adapter_dir}")
    memory = json.loads((train_dir / "memory.json").read_text()) if (train_dir / "memory.json").exists() else {}
    pipeline.write(adapter.record_file, TrainRecord(
        run_dir=str(train_dir), adapter_dir=str(adapter_dir), method=runs.read_spec(train_dir)["method"],
        steps=status.step, epoch_steps=epoch_steps(pipeline.spec, training_rows(pipeline, adapter)),
        prompts=adapter.prompts, arms=list(adapter.arms), train_examples=len(pipeline.read(files.SPLIT, Split).train),
        seconds=spent, final_loss=status.loss, memory=memory,
    ))


def _seconds_so_far(train_dir: Path) -> float:
    path = train_dir / "compare_seconds.json"
    return json.loads(path.read_text())["seconds"] if path.exists() else 0.0
