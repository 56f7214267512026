"""`JobSpec`: everything a tuning run needs, validated once, saved as the run's `spec.json`.

Defaults (common.vocabulary, with their sources): LoRA rank 16, alpha 2 x rank, 2e-4 for
LoRA/QLoRA and a low 1e-5 for full fine-tuning, 2 epochs to limit forgetting.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from common.fields import (
    BatchSize,
    Epochs,
    GpuCount,
    GradAccum,
    LearningRateOrDefault,
    LoraAlpha,
    LoraDropout,
    LoraRank,
    MaxSteps,
    SeqLen,
)
from common.paths import resolve_user_path
from common.vocabulary import (
    DEFAULT_EPOCHS,
    DEFAULT_LORA_RANK,
    DEFAULT_LORA_TARGETS,
    DEFAULT_LR,
    QUANT_OF,
    AdapterMethod,
    Device,
    JobMethod,
    LoraTargets,
    Quant,
    Recipe,
    Sharding,
    TrainMethod,
    default_lora_alpha,
    quant_problem,
)
from tuning.data.schemas import FieldMapping


class JobSpec(BaseModel):
    """A tuning job. `ftadvisor tune`, the Fine-tune page and the comparison build one of these."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    kind: Literal["tune"] = "tune"
    model: str = Field(min_length=1, description="Base model: a hub id, a local folder with config.json, or an "
                       "offline model (smollm2-135m-instruct, tiny). Stored as an absolute folder or a hub id.")
    data: str = Field(min_length=1, description="Training data file (JSONL, JSON, CSV or Parquet).")
    mapping: FieldMapping | None = Field(None, description="Which columns hold prompt/completion/...; None = detect.")
    output: str = Field(min_length=1, description="The run folder to create.")

    method: JobMethod = Field("lora", description="lora, qlora (4-bit base), full, or dpo (preference pairs).")
    dpo_base: AdapterMethod = Field("lora", description="What DPO trains: a LoRA on a 16-bit or 4-bit base.")
    dpo_beta: float = Field(0.1, gt=0, le=10, description="DPO's beta: how far the policy may move from the reference.")
    lora_rank: LoraRank = DEFAULT_LORA_RANK
    lora_alpha: LoraAlpha = None
    lora_dropout: LoraDropout = 0.05
    lora_targets: LoraTargets | list[str] = Field(
        DEFAULT_LORA_TARGETS, description="Modules to adapt: all-linear, attention, or module names (q_proj, ...)."
    )
    quant: Quant | None = Field(None, description="Base weight quantization; default nf4 for QLoRA, none otherwise.")
    double_quant: bool = Field(True, description="Quantize the 4-bit absmax constants too (QLoRA).")

    learning_rate: LearningRateOrDefault = None
    epochs: Epochs = DEFAULT_EPOCHS
    max_steps: MaxSteps = None
    batch_size: BatchSize = 4
    grad_accum: GradAccum = 1
    max_seq_len: SeqLen = 512
    packing: bool = Field(False, description="Pack several examples per sequence (SFT only).")
    gradient_checkpointing: bool = Field(False, description="Recompute activations in backward to save memory.")
    seed: int = Field(42, ge=0, description="Seed for the split, the LoRA init and the data order.")
    eval_fraction: float = Field(0.1, ge=0, lt=1, description="Share of examples held out for eval loss.")
    near_dup_threshold: float | None = Field(
        0.9, gt=0, le=1, description="Cosine above which examples are near-duplicates; None skips the check."
    )
    save_steps: int = Field(100, ge=1, description="Save a checkpoint every N steps (and at a cancel).")
    logging_steps: int = Field(5, ge=1, description="Log loss/lr/grad norm every N steps.")
    eval_steps: int | None = Field(None, ge=1, description="Evaluate every N steps; None = once at the end.")
    merge: bool = Field(False, description="After training, merge the adapter into the base (to merged/).")

    gpus: GpuCount = Field(1, description="GPUs; more than 1 launches through accelerate.")
    sharding: Sharding = Field("none", description="Multi-GPU: none (DDP), zero1/zero2/zero3 (DeepSpeed), fsdp.")
    device: Device = Field("auto", description="auto = cuda when available.")

    @field_validator("model")
    @classmethod
    def _resolved_model(cls, value: str) -> str:
        from lm.refs import resolve_model  # names are pulled, folders made absolute, once

        return resolve_model(value)

    @field_validator("data", "output")
    @classmethod
    def _absolute(cls, value: str, info: ValidationInfo) -> str:
        """Resolved where the spec is built: the worker runs in another folder."""
        return str(resolve_user_path(value, info.field_name))

    @model_validator(mode="after")
    def _alpha_follows_rank(self) -> JobSpec:
        """Empty alpha is 2 x rank (common.vocabulary), whichever entry point built the spec."""
        if self.lora_alpha is None:
            self.lora_alpha = default_lora_alpha(self.lora_rank)
        return self

    @model_validator(mode="after")
    def _consistent(self) -> JobSpec:
        if self.quant is None:
            self.quant = QUANT_OF[self.base_method]
        problem = quant_problem(self.base_method, self.quant)
        if problem and self.method == "dpo":
            raise ValueError(f"method dpo with dpo_base {self.dpo_base}: {problem}")
        if problem:
            raise ValueError(problem)
        if self.packing and self.method == "dpo":
            raise ValueError("packing applies to SFT only: set packing to false for method dpo")
        if self.sharding != "none" and self.gpus < 2:
            raise ValueError(f"sharding {self.sharding!r} needs gpus of 2 or more, got {self.gpus}")
        if isinstance(self.lora_targets, list) and not self.lora_targets:
            raise ValueError("lora_targets must name at least one module, or be 'all-linear' or 'attention'")
        if Path(self.output).exists() and Path(self.output).is_file():
            raise ValueError(f"output {self.output!r} is a file: give a folder for the run")
        return self

    @property
    def base_method(self) -> TrainMethod:
        """What is trained: DPO runs on a LoRA or QLoRA base."""
        return self.dpo_base if self.method == "dpo" else self.method

    @property
    def lr(self) -> float:
        return self.learning_rate if self.learning_rate is not None else DEFAULT_LR[self.method]

    @property
    def kind_of_data(self) -> Recipe:
        return "dpo" if self.method == "dpo" else "sft"
