"""`EstimateRequest`: every input of a memory/time/cost estimate, with bounds and descriptions.

The descriptions are the labels and help texts of the Estimator page (`ui.forms`) and of
`ftadvisor estimate --help`; keep them short and in the user's words. Fields left empty (None)
take the stack's or the device's choice (estimator/stacks.py); after validation every one of them
holds a value, so the rest of the estimator never sees None.
"""
from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from common.fields import BatchSize, Epochs, GpuCount, GradAccum, LoraDropout, LoraRank, SeqLen
from common.vocabulary import (
    ADAPTER_METHODS,
    DEFAULT_LORA_RANK,
    DEFAULT_LORA_TARGETS,
    TRAIN_METHODS,
    Device,
    Loss,
    Precision,
    Quant,
    Sharding,
    Stack,
    quant_problem,
)
from common.vocabulary import EstimateMethod as Method
from estimator.stacks import UNSLOTH_OFFLOAD_MIN_SEQ, profile

# bitsandbytes' 8-bit AdamW, paged or not: the same state bytes (estimator/static_memory.py).
EightBitOptimizer = Literal["adamw-8bit", "paged-adamw-8bit"]
EIGHT_BIT_OPTIMIZERS: tuple[EightBitOptimizer, ...] = get_args(EightBitOptimizer)
Optimizer = Literal["adamw", EightBitOptimizer, "sgd", "adafactor"]


class EstimateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        min_length=1, description="Model: catalog name, Hugging Face id, config.json path or a size such as 7b."
    )
    method: Method = Field("lora", description="What to run: inference, full fine-tuning, LoRA or QLoRA.")
    stack: Stack = Field(
        "trl", description="Training stack: trl (our backend), peft-trainer, torchtune, unsloth or litgpt."
    )
    device: Device = Field(
        "cuda",
        description="Where it runs: cuda (a GPU; auto too) or cpu (our backend on a CPU: fp32, no CUDA context).",
    )
    lora_rank: LoraRank = DEFAULT_LORA_RANK
    lora_targets: str | list[str] = Field(
        DEFAULT_LORA_TARGETS,
        description="LoRA target modules: all-linear, attention, or module names (q_proj,v_proj,...).",
    )
    lora_dropout: LoraDropout = Field(
        0.0, description="LoRA dropout (peft default 0; >0 keeps a mask and a copy of each adapter input)."
    )
    precision: Precision | None = Field(
        None,
        description="Weight and compute precision (empty: bf16 on a GPU, fp16 on one without bf16, fp32 on a CPU).",
    )
    pure_bf16: bool | None = Field(
        None, description="Pure 16-bit training: no fp32 master weights or adapters (empty: the stack's choice)."
    )
    quant: Quant = Field(
        "none", validate_default=True, description="Base-weight quantization (bitsandbytes): none, int8 or nf4."
    )
    double_quant: bool = Field(True, description="NF4 double quantization of the block constants.")
    quant_saves_inputs: bool = Field(
        False,
        description="Older bitsandbytes (0.41, 2023) kept each 4-bit matmul's input for backward; "
        "0.50 keeps only the packed weight.",
    )
    optimizer: Optimizer = Field("adamw", description="Optimizer.")
    optimizer_foreach: bool | None = Field(
        None, description="Foreach AdamW: one extra state-sized buffer at the step (empty: the stack's kernel)."
    )
    batch_size: BatchSize = Field(1, description="Micro-batch size per GPU (sequences).")
    gradient_accumulation: GradAccum = Field(
        1, description="Gradient accumulation steps: above 1 the gradients stay allocated through every micro-batch."
    )
    seq_len: SeqLen = Field(2048, description="Sequence length in tokens (padded length of the longest batch).")
    gradient_checkpointing: bool = Field(
        False, description="Gradient (activation) checkpointing: keep layer inputs, recompute the rest."
    )
    activation_offloading: bool | None = Field(
        None, description="Checkpointed layer inputs kept in CPU memory (empty: the stack's choice; unsloth offloads)."
    )
    attention: Literal["sdpa", "eager"] = Field(
        "sdpa", description="Attention kernel: sdpa/flash (no S^2 buffer) or eager (keeps S^2 scores)."
    )
    loss: Loss | None = Field(
        None,
        description="Loss: standard fp32 logits, chunked, or fused (no full-vocabulary fp32 buffer); "
        "empty: the stack's.",
    )
    gpus: GpuCount = 1
    sharding: Sharding = Field("none", description="Sharding across GPUs: none (DDP), ZeRO-1/2/3 or FSDP full shard.")
    offload_optimizer: bool = Field(
        False, description="Offload optimizer states (and fp32 master weights) to CPU memory."
    )
    gpu: str | None = Field(None, description="GPU type from the catalog, for fit, time and cost.")
    train_tokens: int | None = Field(
        None, ge=1, description="Training tokens per epoch (dataset size), for time and cost."
    )
    epochs: Epochs = Field(1.0, description="Epochs over the training tokens.")
    mfu: float = Field(
        0.4, gt=0, le=1, description="Model FLOPs utilisation: the share of the GPU's dense peak reached."
    )
    prompt_tokens: int | None = Field(None, ge=1, le=2_097_152, description="Serving: prompt tokens per request.")
    output_tokens: int | None = Field(None, ge=1, le=2_097_152, description="Serving: generated tokens per request.")
    concurrency: int = Field(
        1, ge=1, le=65_536, description="Serving: requests decoded together (continuous batching)."
    )
    mbu: float = Field(
        0.6,
        gt=0,
        le=1,
        description="Serving: model bandwidth utilisation, the share of the GPU's memory bandwidth decoding reaches.",
    )

    @field_validator("lora_targets", mode="before")
    @classmethod
    def _split_targets(cls, value):
        """Accept `q_proj,v_proj` as well as a list; keep the two named sets as strings."""
        if isinstance(value, str) and "," in value:
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and not value:
            raise ValueError("give at least one module name, or all-linear / attention")
        return value

    @field_validator("quant")
    @classmethod
    def _quant_fits_method(cls, quant: str, info: ValidationInfo) -> str:
        method = info.data.get("method")
        problem = quant_problem(method, quant) if method in TRAIN_METHODS else None  # serving: any quant
        if problem:
            raise ValueError(problem)
        return quant

    @model_validator(mode="after")
    def _resolve_defaults(self) -> EstimateRequest:
        """Fill the empty fields with the stack's and the device's choices (estimator/stacks.py)."""
        stack = profile(self.stack)
        if self.device == "auto":
            self.device = "cuda"
        if self.precision is None:
            self.precision = "fp32" if self.device == "cpu" else _gpu_precision(self.gpu)
        if self.pure_bf16 is None:
            self.pure_bf16 = _stack_is_pure(self, stack)
        if self.loss is None:
            self.loss = stack.loss
        if self.optimizer_foreach is None:
            self.optimizer_foreach = stack.optimizer_foreach and self.device != "cpu"
        if self.activation_offloading is None:
            self.activation_offloading = (stack.offloads_checkpoints and self.gradient_checkpointing
                                          and self.seq_len >= UNSLOTH_OFFLOAD_MIN_SEQ)
        self._serving_shape()
        return self

    def _serving_shape(self) -> None:
        """Serving sizes the KV cache for `concurrency` requests of prompt + output tokens, unless
        batch and sequence were given."""
        if self.method != "inference" or self.prompt_tokens is None:
            return
        if "batch_size" not in self.model_fields_set:
            self.batch_size = self.concurrency
        if "seq_len" not in self.model_fields_set:
            self.seq_len = self.prompt_tokens + (self.output_tokens or 0)

    @property
    def is_training(self) -> bool:
        return self.method != "inference"

    @property
    def uses_adapter(self) -> bool:
        return self.method in ADAPTER_METHODS


def _gpu_precision(gpu: str | None) -> str:
    """bf16, or fp16 on a GPU without bf16 (as lm/loading.py compute_dtype picks)."""
    if gpu is None:
        return "bf16"
    from estimator.gpus import load_gpu

    return "bf16" if load_gpu(gpu).bf16 else "fp16"


def _stack_is_pure(req: EstimateRequest, stack) -> bool:
    """Whether the stack trains without any fp32 copy: no fp32 adapters, no fp32 master weights."""
    if req.method == "full":
        return not stack.full_master_fp32
    if req.method == "qlora":
        return not stack.qlora_adapter_fp32
    return not stack.adapter_fp32
