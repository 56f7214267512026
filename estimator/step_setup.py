"""What every memory term shares: the `Term` (bytes + formula) and the facts about a step that
several terms derive from the request and its stack (dtype widths, what trains, sharding, tokens)."""
from __future__ import annotations

from dataclasses import dataclass

from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.stacks import StackProfile, profile

GIB = 1024**3
DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}


@dataclass
class Term:
    bytes: float
    formula: str


@dataclass
class Setup:
    """Derived facts about the request that several terms need (widths in bytes per element)."""

    stack: StackProfile
    cpu: bool  # the CPU backend: no CUDA context, no caching allocator
    n_shard: int
    sharding: str
    dtype_bytes: int  # the weights' and compute dtype (2 for 16-bit, 4 for fp32)
    mixed: bool  # full FT with fp32 master weights under autocast
    autocast: bool  # 16-bit autocast over the step
    rest_fp32: bool  # quantized base whose other parameters were cast to fp32 (prepare_model_for_kbit_training)
    resid_bytes: int  # the residual stream (fp32 under `mixed` and `rest_fp32`)
    act_bytes: int  # Linear outputs and MLP tensors
    sdpa_bytes: int  # what SDPA keeps of q, k, v and its output
    adapter_bytes: int
    lora_cast_bytes: int  # the copy of its input a LoRA branch keeps when it casts or drops out
    mask_bytes: int  # a dropout mask per element: a bool on CUDA, the input's dtype on a CPU
    trainable: int
    train_bytes: int  # bytes per trainable parameter (and its optimizer state dtype)
    grad_bytes: int  # bytes per gradient on the GPU (16-bit when offloading keeps fp32 grads on CPU)
    tokens: int
    offload: bool  # checkpointed (or all saved) activations live in CPU memory


def _adapter_bytes(req: EstimateRequest, wb: int, sixteen: bool) -> int:
    if not (req.pure_bf16 or not sixteen):
        return 4  # peft keeps adapters in fp32 (get_peft_model autocast_adapter_dtype=True)
    if req.method == "qlora" and req.stack == "trl":
        return 2  # trl casts trainable parameters of a quantized model to bf16, on any device
    return wb


def setup(req: EstimateRequest, spec: ModelSpec) -> Setup:
    stack = profile(req.stack)
    wb = DTYPE_BYTES[req.precision]
    sixteen = req.precision != "fp32"
    autocast = stack.autocast and sixteen
    mixed = req.method == "full" and sixteen and not req.pure_bf16
    rest_fp32 = req.quant != "none" and stack.kbit_rest_fp32 and sixteen
    adapter_bytes = _adapter_bytes(req, wb, sixteen)
    if req.method == "full":
        trainable, train_bytes = spec.param_count(), (4 if mixed or not sixteen else 2)
    elif req.uses_adapter:
        trainable, train_bytes = spec.lora_params(req.lora_rank, req.lora_targets), adapter_bytes
    else:
        trainable, train_bytes = 0, 0
    n = req.gpus if req.sharding != "none" else 1
    return Setup(
        stack=stack, cpu=req.device == "cpu", n_shard=n, sharding=req.sharding if req.gpus > 1 else "none",
        dtype_bytes=wb, mixed=mixed, autocast=autocast, rest_fp32=rest_fp32,
        resid_bytes=4 if (mixed or rest_fp32) else wb, act_bytes=4 if rest_fp32 else (2 if mixed else wb),
        sdpa_bytes=2 if autocast else wb, adapter_bytes=adapter_bytes,
        lora_cast_bytes=2 if autocast else adapter_bytes, mask_bytes=wb if req.device == "cpu" else 1,
        trainable=trainable, train_bytes=train_bytes,
        grad_bytes=2 if (mixed and req.offload_optimizer) else train_bytes,
        tokens=req.batch_size * req.seq_len, offload=bool(req.activation_offloading),
    )
