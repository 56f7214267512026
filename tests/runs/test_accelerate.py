"""Multi-GPU launch: generated accelerate configs for each sharding option load with accelerate,
and two DDP processes (gloo, CPU) really train through `accelerate launch`."""
import json
import math

import pytest

import runs
from runs.accelerate import accelerate_config, write_config
from tuning.spec import JobSpec


@pytest.mark.parametrize("sharding, distributed_type", [
    ("none", "MULTI_GPU"), ("zero1", "DEEPSPEED"), ("zero2", "DEEPSPEED"), ("zero3", "DEEPSPEED"), ("fsdp", "FSDP"),
])
def test_configs_load_with_accelerate(tmp_path, sharding, distributed_type):
    from accelerate.commands.config.config_args import load_config_from_file

    path = write_config(tmp_path, 4, sharding)
    config = load_config_from_file(str(path))
    assert config.distributed_type.value == distributed_type and config.num_processes == 4
    if sharding.startswith("zero"):
        assert config.deepspeed_config["zero_stage"] == int(sharding[-1])
    if sharding == "fsdp":
        assert config.fsdp_config["fsdp_sharding_strategy"] == "FULL_SHARD"
        assert config.fsdp_config["fsdp_use_orig_params"]


def test_a_spec_with_two_gpus_launches_through_accelerate(tmp_path):
    spec = JobSpec(model="m", data="d.jsonl", output=str(tmp_path / "r"), gpus=2, sharding="zero3")
    command = runs.worker_command(tmp_path, spec.model_dump())
    assert command[1:4] == ["-m", "accelerate.commands.launch", "--config_file"]
    assert command[-3:] == ["-m", "tuning.worker", str(tmp_path)]
    assert runs.worker_command(tmp_path, {**spec.model_dump(), "gpus": 1})[1:3] == ["-m", "tuning.worker"]
    with pytest.raises(ValueError, match="sharding must be one of"):
        accelerate_config(2, "zero4")


@pytest.mark.slow
def test_two_cpu_processes_train_with_ddp(tiny_model_dir, sft_data, tmp_path):
    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(tmp_path / "ddp"), gpus=2,
                   device="cpu", max_steps=4, batch_size=4, logging_steps=2, near_dup_threshold=None)
    run_dir = runs.launch(spec)
    status = runs.wait(run_dir, timeout_s=240)
    assert status.state == "completed" and status.step == 4, (run_dir / "log.txt").read_text()[-3000:]
    # Two ranks take batch_size examples each per step, so an epoch has half the steps of one process.
    report = json.loads((run_dir / "dataset_report.json").read_text())
    train_n = report["counts"]["train"]
    assert runs.read_metrics(run_dir)[-1]["epoch"] == pytest.approx(4 / math.ceil(train_n / (2 * 4)), abs=1e-3)
