"""The words of the training stack, defined once: methods, quantizations, precisions, sharding,
devices, their labels and their default hyperparameters. Every model, form and flag imports them.

Each vocabulary is a Literal (what pydantic validates, the forms and flags offer) and its tuple is
`get_args` of it; a narrower vocabulary is a part of a wider one (`TrainMethod` is the adapter
methods and `full`). Tables keyed by a vocabulary sit beside it: labels, defaults, the base each
method trains on (`QUANT_OF`), what each sharding shards (`SHARDING`).
tests/common/test_vocabulary.py fails when a vocabulary's words are spelled anywhere else.

Defaults and sources:
- LoRA rank 16 on all linear layers, alpha = 2r (the QLoRA paper's setting is r=64, alpha=16;
  alpha = 2r keeps the update scale alpha/r = 2 whatever r is, the setting Biderman et al. 2024,
  "LoRA Learns Less and Forgets Less", arXiv:2405.09673, recommend; the LoRA paper, Hu et al.
  2021, Table 6, finds r 1-64 alike);
- learning rates: 2e-4 for LoRA/QLoRA (QLoRA paper, Dettmers et al. 2023, Table 9: 1e-4..2e-4),
  1e-5 for full fine-tuning (LIMA, Zhou et al. 2023, section 3: 1e-5 decaying to 1e-6), 5e-6 for
  DPO (Rafailov et al. 2023, section 6: 1e-6; trl's DPOConfig default is 1e-6, 5e-6 is common for
  LoRA DPO).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# How an adapter is trained: LoRA on a 16-bit base, QLoRA on a quantized one.
AdapterMethod = Literal["lora", "qlora"]
ADAPTER_METHODS: tuple[AdapterMethod, ...] = get_args(AdapterMethod)
# What is trained (the estimator's training methods, the advisor's plans).
TrainMethod = Literal[AdapterMethod, "full"]
TRAIN_METHODS: tuple[TrainMethod, ...] = get_args(TrainMethod)
# What the estimator sizes: serving, and the training methods.
EstimateMethod = Literal["inference", "full", AdapterMethod]
ESTIMATE_METHODS: tuple[EstimateMethod, ...] = get_args(EstimateMethod)
# What a tuning job runs: SFT with one of the training methods, or DPO on a LoRA/QLoRA base.
JobMethod = Literal[TrainMethod, "dpo"]
JOB_METHODS: tuple[JobMethod, ...] = get_args(JobMethod)

Quant = Literal["none", "int8", "nf4"]
QUANTS: tuple[Quant, ...] = get_args(Quant)
# The base each method trains: QLoRA a quantized one (4-bit NF4 unless int8 is asked for, QLoRA
# paper section 3), LoRA and full fine-tuning a 16/32-bit one.
QUANT_OF: dict[TrainMethod, Quant] = {"lora": "none", "qlora": "nf4", "full": "none"}


def quant_problem(method: TrainMethod, quant: Quant) -> str | None:
    """What is wrong with training `method` on a `quant` base, or None when they go together."""
    quantized = QUANT_OF[method] != "none"
    if quantized == (quant != "none"):
        return None
    if quantized:
        return f"{method} trains a quantized base: quant must be int8 or nf4, got 'none'"
    return f"quant {quant!r} needs method qlora: {method} trains a 16/32-bit base"


Precision = Literal["fp32", "fp16", "bf16"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)

# Multi-GPU: none is DDP (or one GPU); ZeRO stages are DeepSpeed's; fsdp is FSDP full shard.
Sharding = Literal["none", "zero1", "zero2", "zero3", "fsdp"]
SHARDINGS: tuple[Sharding, ...] = get_args(Sharding)


@dataclass(frozen=True)
class ShardingPlan:
    """What a sharding option splits over the GPUs (the rest every GPU holds whole), and how
    accelerate runs it."""

    label: str
    optimizer: bool  # optimizer states and fp32 master weights
    gradients: bool
    weights: bool  # then each layer is gathered whole only while it runs
    distributed_type: str  # accelerate's (`accelerate config`, accelerate 1.15)
    zero_stage: int | None = None  # DeepSpeed's


# ZeRO stage 1 partitions the optimizer states, 2 also the gradients, 3 also the parameters
# (Rajbhandari et al. 2020, arXiv:1910.02054, section 5); FSDP's FULL_SHARD shards all three like
# ZeRO-3 (Zhao et al. 2023, arXiv:2304.11277). DDP keeps a full replica per GPU.
SHARDING: dict[Sharding, ShardingPlan] = {
    "none": ShardingPlan("DDP", optimizer=False, gradients=False, weights=False, distributed_type="MULTI_GPU"),
    "zero1": ShardingPlan("ZeRO-1", optimizer=True, gradients=False, weights=False, distributed_type="DEEPSPEED",
                          zero_stage=1),
    "zero2": ShardingPlan("ZeRO-2", optimizer=True, gradients=True, weights=False, distributed_type="DEEPSPEED",
                          zero_stage=2),
    "zero3": ShardingPlan("ZeRO-3", optimizer=True, gradients=True, weights=True, distributed_type="DEEPSPEED",
                          zero_stage=3),
    "fsdp": ShardingPlan("FSDP full shard", optimizer=True, gradients=True, weights=True, distributed_type="FSDP"),
}

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[Device, ...] = get_args(Device)
# What answers prompts (lm.engines): transformers (the reference, and the engine on a GPU) or
# OpenVINO GenAI on a CPU (a converted GGUF, float32 compute); auto takes OpenVINO on a CPU when
# the model converts, else transformers.
Engine = Literal["auto", "transformers", "openvino"]
ENGINES: tuple[Engine, ...] = get_args(Engine)
# The training stack whose choices (dtypes, loss, checkpointing) the estimator models; trl is what
# our tuning backend runs (estimator/stacks.py documents each with the source lines that decide it).
Stack = Literal["trl", "peft-trainer", "torchtune", "unsloth", "litgpt"]
STACKS: tuple[Stack, ...] = get_args(Stack)
# The causal-LM loss: full fp32 logits (transformers' ForCausalLMLoss), chunked cross-entropy that
# keeps every chunk's log-probs, or fused (no full-vocabulary fp32 buffer kept for backward).
Loss = Literal["standard", "chunked", "fused"]
LOSSES: tuple[Loss, ...] = get_args(Loss)

METHOD_LABELS: dict[str, str] = {
    "inference": "serving",
    "lora": "LoRA",
    "qlora": "QLoRA",
    "full": "full fine-tuning",
    "dpo": "DPO",
}

# What the advisor recommends building: a prompt, retrieval (the two that may also go with the
# primary approach), or one of the training methods. Cheapest first.
Companion = Literal["prompting", "rag"]
FinetuneApproach = Literal[AdapterMethod, "full_finetune"]
FINETUNE_APPROACHES: tuple[FinetuneApproach, ...] = get_args(FinetuneApproach)
Approach = Literal[Companion, FinetuneApproach]
APPROACHES: tuple[Approach, ...] = get_args(Approach)
APPROACH_METHOD: dict[FinetuneApproach, TrainMethod] = {"lora": "lora", "qlora": "qlora", "full_finetune": "full"}
APPROACH_LABELS: dict[Approach, str] = {
    "prompting": "Prompting",
    "rag": "RAG (retrieval-augmented generation)",
    "lora": "LoRA fine-tuning",
    "qlora": "QLoRA fine-tuning",
    "full_finetune": "Full fine-tuning",
}
APPROACH_SHORT_LABELS: dict[Approach, str] = {
    "prompting": "Prompting", "rag": "RAG", "lora": "LoRA", "qlora": "QLoRA", "full_finetune": "Full FT",
}
# How a fine-tuning job learns: from demonstrations (SFT) or from chosen/rejected pairs (DPO).
Recipe = Literal["sft", "dpo"]
RECIPES: tuple[Recipe, ...] = get_args(Recipe)

DEFAULT_LORA_RANK = 16
# The layers a LoRA adapts, by name (or a list of module names): every Linear, or attention's.
LoraTargets = Literal["all-linear", "attention"]
LORA_TARGETS: tuple[LoraTargets, ...] = get_args(LoraTargets)
DEFAULT_LORA_TARGETS: LoraTargets = "all-linear"


def default_lora_alpha(rank: int) -> int:
    """alpha = 2r: the update scale alpha/r stays 2 whatever the rank."""
    return 2 * rank


DEFAULT_LR: dict[JobMethod, float] = {"lora": 2e-4, "qlora": 2e-4, "full": 1e-5, "dpo": 5e-6}
DEFAULT_EPOCHS = 2  # 1-3 epochs: forgetting grows with training length (Biderman et al. 2024)

# Task-aware scorers of a comparison (compare.scoring); a user's own is `python:MODULE:FUNCTION`.
ScorerName = Literal["json", "sql-exec"]
SCORERS: tuple[ScorerName, ...] = get_args(ScorerName)
USER_SCORER_PREFIX = "python:"
