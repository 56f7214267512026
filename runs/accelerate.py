"""Accelerate configs for multi-GPU runs, which go through `accelerate launch` with a config
generated from the spec's sharding, as common.vocabulary.SHARDING says how each runs: none -> DDP,
zero1/zero2/zero3 -> DeepSpeed ZeRO stage 1/2/3, fsdp -> FSDP full sharding.

The keys are those `accelerate config` writes (accelerate 1.15, `commands/config/cluster.py`);
`accelerate.commands.config.config_args.load_config_from_file` reads them back (tested).
Import-light: no torch.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from common.vocabulary import SHARDING, SHARDINGS

CONFIG_FILE = "accelerate_config.json"


def accelerate_config(gpus: int, sharding: str = "none", *, mixed_precision: str = "bf16") -> dict[str, Any]:
    """The accelerate config dict for `gpus` processes on one machine."""
    plan = SHARDING.get(sharding)
    if plan is None:
        raise ValueError(f"sharding must be one of {', '.join(SHARDINGS)}; got {sharding!r}")
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "num_machines": 1,
        "machine_rank": 0,
        "num_processes": gpus,
        "gpu_ids": "all",
        "mixed_precision": mixed_precision,
        "rdzv_backend": "static",
        "same_network": True,
        "main_training_function": "main",
        "use_cpu": False,
        "debug": False,
        "distributed_type": plan.distributed_type,  # MULTI_GPU is DDP: gradients all-reduced
    }
    if plan.zero_stage is not None:
        stage = plan.zero_stage
        config["deepspeed_config"] = {
            "zero_stage": stage,  # 1: optimizer states, 2: + gradients, 3: + weights sharded
            "offload_optimizer_device": "none",
            "offload_param_device": "none",
            "gradient_clipping": 1.0,
            "zero3_init_flag": stage == 3,
            "zero3_save_16bit_model": stage == 3,  # so the saved adapter/model is whole, not shards
        }
    elif plan.distributed_type == "FSDP":
        config["fsdp_config"] = {
            "fsdp_version": 1,
            "fsdp_sharding_strategy": "FULL_SHARD",  # weights, grads and optimizer states sharded
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",  # one unit per decoder layer
            "fsdp_backward_prefetch": "BACKWARD_PRE",
            "fsdp_state_dict_type": "FULL_STATE_DICT",
            "fsdp_offload_params": False,
            "fsdp_cpu_ram_efficient_loading": True,
            "fsdp_sync_module_states": True,
            "fsdp_use_orig_params": True,  # needed when only some parameters train (LoRA)
        }
    return config


def write_config(run_dir: str | Path, gpus: int, sharding: str = "none", **kwargs: Any) -> Path:
    path = Path(run_dir) / CONFIG_FILE
    path.write_text(json.dumps(accelerate_config(gpus, sharding, **kwargs), indent=2))
    return path


def accelerate_command(
    run_dir: str | Path, module: str, *, gpus: int, sharding: str = "none", mixed_precision: str = "bf16"
) -> list[str]:
    """`accelerate launch --config_file RUN_DIR/accelerate_config.json -m MODULE RUN_DIR`."""
    config = write_config(run_dir, gpus, sharding, mixed_precision=mixed_precision)
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config),
            "-m", module, str(run_dir)]
