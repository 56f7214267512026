"""The worker's run folder after a real LoRA SFT run (tiny model, detached worker), and how it
records failures: a dataset problem, an out-of-memory error (CPU and CUDA). The same run on a
CUDA GPU when there is one (`gpu` marker)."""
import json

import pytest

import runs
from tuning import checkpoints, worker
from tuning.spec import JobSpec

pytestmark = pytest.mark.slow


def test_lora_sft_run_writes_every_file_and_the_loss_goes_down(trained_run):
    status = runs.refresh_status(trained_run)
    assert status.state == "completed" and status.step == status.total_steps == runs.read_spec(trained_run)["max_steps"]
    assert status.started_at <= status.finished_at and status.error is None and status.eta_s is None
    for name in ("spec.json", "dataset_report.json", "dataset_report.md", "metrics.jsonl", "log.txt",
                 "memory.json", "adapter/adapter_config.json", "adapter/adapter_model.safetensors",
                 "checkpoints/checkpoint-12", "checkpoints/checkpoint-24"):
        assert (trained_run / name).exists(), name
    for step in (12, 24):  # every checkpoint marked complete once the Trainer finished writing it
        assert checkpoints.marker_of(trained_run / "checkpoints" / f"checkpoint-{step}")["step"] == step
    metrics = runs.read_metrics(trained_run)
    train = [m for m in metrics if "loss" in m]
    assert [m["step"] for m in train] == [1, 4, 8, 12, 16, 20, 24]
    assert all({"learning_rate", "grad_norm", "tokens_per_s"} <= m.keys() for m in train)
    assert train[-1]["loss"] < train[0]["loss"] - 0.2, [m["loss"] for m in train]
    assert [m for m in metrics if "eval_loss" in m]
    [summary] = [m for m in metrics if "train_runtime_s" in m]  # one end-of-training line
    assert summary["input_tokens"] > 0 and summary["train_runtime_s"] > 0
    memory = json.loads((trained_run / "memory.json").read_text())
    assert memory["measured_peak_gib"] > 0.05 and memory["measured"].startswith("process peak RSS")
    assert memory["estimated_total_gib"] is not None or memory["estimate_error"]


def test_a_bad_dataset_fails_the_run_naming_file_line_and_field(tiny_model_dir, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": "hi", "completion": "there"}\n{"prompt": "no answer"}\n')
    run_dir = runs.create_run(JobSpec(model=str(tiny_model_dir), data=str(data), output=str(tmp_path / "r"),
                                      near_dup_threshold=None))
    assert worker.run(run_dir) == 1
    status = runs.refresh_status(run_dir)
    assert status.state == "failed"
    assert "bad.jsonl line 2" in status.error and "'completion'" in status.error
    assert (run_dir / "dataset_report.md").exists() and not (run_dir / "adapter").exists()


def test_out_of_memory_says_what_to_change(tiny_model_dir, sft_data, tmp_path, monkeypatch):
    from tuning.recipes import sft

    def oom(spec, run_dir):
        raise MemoryError("simulated")

    monkeypatch.setattr(sft, "run", oom)
    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "r"), batch_size=4,
                   max_seq_len=1024, near_dup_threshold=None)
    run_dir = runs.create_run(spec)
    assert worker.run(run_dir) == 1
    error = runs.refresh_status(run_dir).error
    assert error.startswith("out of memory")
    assert "--method qlora" in error and "--batch-size 1 --grad-accum 4" in error
    assert "--gradient-checkpointing" in error and "--seq-len 512" in error


def test_a_cancel_before_training_ends_the_run_at_once(tiny_model_dir, sft_data, tmp_path):
    run_dir = runs.create_run(JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "r")))
    (run_dir / runs.CANCEL_FILE).write_text("now")
    assert worker.run(run_dir) == 0
    assert runs.refresh_status(run_dir).state == "cancelled"


def test_a_cuda_out_of_memory_error_is_recognised_without_a_gpu():
    import torch

    assert worker._is_oom(torch.cuda.OutOfMemoryError("CUDA out of memory")) and worker._is_oom(MemoryError())
    assert not worker._is_oom(RuntimeError("shapes do not match"))


@pytest.mark.gpu
def test_lora_sft_on_a_cuda_gpu_records_the_gpu_peak(tiny_model_dir, sft_data, tmp_path):
    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "r"), device="cuda",
                   max_steps=4, batch_size=4, near_dup_threshold=None)
    run_dir = runs.create_run(spec)
    assert worker.run(run_dir) == 0, runs.load_status(run_dir).error
    memory = json.loads((run_dir / "memory.json").read_text())
    assert memory["measured"].startswith("torch.cuda.max_memory_reserved") and memory["measured_peak_gib"] > 0
