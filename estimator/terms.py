"""What every memory term shares: the `Term` (bytes + formula) and the facts about a step that
several terms derive from the request (dtype widths, what trains, sharding, tokens)."""
from __future__ import annotations

from dataclasses import dataclass

from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest

GIB = 1024**3
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}


@dataclass
class Term:
    bytes: float
    formula: str


@dataclass
class Setup:
    """Derived facts about the request that several terms need."""

    n_shard: int
    sharding: str
    dtype_bytes: int  # bytes per element of the weights/compute dtype (2 for 16-bit, 4 for fp32)
    mixed: bool  # full FT with fp32 master weights under autocast
    adapter_bytes: int
    trainable: int
    train_bytes: int  # bytes per trainable parameter (and its optimizer state dtype)
    grad_bytes: int  # bytes per gradient on the GPU (16-bit when offloading keeps fp32 grads on CPU)
    tokens: int


def setup(req: EstimateRequest, spec: ModelSpec) -> Setup:
    wb = DTYPE_BYTES[req.precision]
    sixteen = req.precision != "fp32"
    mixed = req.method == "full" and sixteen and not req.pure_bf16
    adapter_bytes = wb if (req.pure_bf16 or not sixteen) else 4  # peft keeps adapters in fp32
    if req.method == "full":
        trainable, train_bytes = spec.param_count(), (4 if mixed or not sixteen else 2)
    elif req.uses_adapter:
        trainable, train_bytes = spec.lora_params(req.lora_rank, req.lora_targets), adapter_bytes
    else:
        trainable, train_bytes = 0, 0
    n = req.gpus if req.sharding != "none" else 1
    return Setup(
        n_shard=n, sharding=req.sharding if req.gpus > 1 else "none", dtype_bytes=wb,
        mixed=mixed, adapter_bytes=adapter_bytes, trainable=trainable, train_bytes=train_bytes,
        grad_bytes=2 if (mixed and req.offload_optimizer) else train_bytes,
        tokens=req.batch_size * req.seq_len,
    )
