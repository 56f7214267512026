"""`EstimateRequest`: every input of a memory/time/cost estimate, with bounds and descriptions.

The descriptions are the labels and help texts of the Estimator page (`ui.forms`) and of
`ftadvisor estimate --help`; keep them short and in the user's words.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from common.vocabulary import EstimateMethod as Method, Precision, Quant, Sharding

Optimizer = Literal["adamw", "adamw-8bit", "paged-adamw-8bit", "sgd", "adafactor"]


class EstimateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, description="Model: catalog name, Hugging Face id, config.json path or a size such as 7b.")
    method: Method = Field("lora", description="What to run: inference, full fine-tuning, LoRA or QLoRA.")
    lora_rank: int = Field(16, ge=1, le=1024, description="LoRA rank r.")
    lora_targets: str | list[str] = Field(
        "all-linear", description="LoRA target modules: all-linear, attention, or module names (q_proj,v_proj,...)."
    )
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0, description="LoRA dropout (peft default 0; >0 keeps a mask and a copy of each adapter input).")
    precision: Precision = Field("bf16", description="Weight and compute precision.")
    pure_bf16: bool = Field(False, description="Pure 16-bit training: no fp32 master weights, fp32 adapters or fp32 optimizer states.")
    quant: Quant = Field("none", validate_default=True, description="Base-weight quantization (bitsandbytes): none, int8 or nf4.")
    double_quant: bool = Field(True, description="NF4 double quantization of the block constants.")
    quant_saves_inputs: bool = Field(
        False, description="Older bitsandbytes (0.41, 2023) kept each 4-bit matmul's input for backward; 0.50 keeps only the packed weight."
    )
    optimizer: Optimizer = Field("adamw", description="Optimizer.")
    optimizer_foreach: bool = Field(
        False, description="Foreach AdamW (torch default outside HF Trainer): one extra state-sized buffer during the step."
    )
    batch_size: int = Field(1, ge=1, le=4096, description="Micro-batch size per GPU (sequences).")
    gradient_accumulation: int = Field(
        1, ge=1, le=4096, description="Gradient accumulation steps: above 1 the gradients stay allocated through every micro-batch."
    )
    seq_len: int = Field(2048, ge=1, le=2_097_152, description="Sequence length in tokens (padded length of the longest batch).")
    gradient_checkpointing: bool = Field(False, description="Gradient (activation) checkpointing: keep layer inputs, recompute the rest.")
    attention: Literal["sdpa", "eager"] = Field("sdpa", description="Attention kernel: sdpa/flash (no S^2 buffer) or eager (keeps S^2 scores).")
    loss: Literal["standard", "chunked"] = Field(
        "standard", description="Loss: standard full-vocabulary fp32 logits, or chunked/fused cross-entropy."
    )
    gpus: int = Field(1, ge=1, le=4096, description="Number of GPUs.")
    sharding: Sharding = Field("none", description="Sharding across GPUs: none (DDP), ZeRO-1/2/3 or FSDP full shard.")
    offload_optimizer: bool = Field(False, description="Offload optimizer states (and fp32 master weights) to CPU memory.")
    gpu: str | None = Field(None, description="GPU type from the catalog, for fit, time and cost.")
    train_tokens: int | None = Field(None, ge=1, description="Training tokens per epoch (dataset size), for time and cost.")
    epochs: float = Field(1.0, gt=0, le=1000, description="Epochs over the training tokens.")
    mfu: float = Field(0.4, gt=0, le=1, description="Model FLOPs utilisation: the share of the GPU's dense peak reached.")

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
        if method == "qlora" and quant == "none":
            raise ValueError("qlora needs quant int8 or nf4")
        if method in ("full", "lora") and quant != "none":
            raise ValueError(f"{method} trains 16/32-bit weights, so quant must be none (use method qlora)")
        return quant

    @property
    def is_training(self) -> bool:
        return self.method != "inference"

    @property
    def uses_adapter(self) -> bool:
        return self.method in ("lora", "qlora")
