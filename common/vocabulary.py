"""The words of the training stack, defined once: methods, quantizations, precisions, sharding,
devices, their labels and their default hyperparameters. Every model, form and flag imports them.

Defaults and sources:
- LoRA rank 16 on all linear layers, alpha = 2r (the QLoRA paper's setting is r=64, alpha=16;
  2r is the common practice that keeps the update scale alpha/r = 2 whatever r is; seeds
  002_e90dd656f1701a5c.txt give r 8-64);
- learning rates: 2e-4 for LoRA/QLoRA (QLoRA paper, Dettmers et al. 2023, Table 9: 1e-4..2e-4),
  1e-5 for full fine-tuning (seed 002), 5e-6 for DPO (Rafailov et al. 2023, section 6: 1e-6;
  trl's DPOConfig default is 1e-6, 5e-6 is common for LoRA DPO).
"""
from __future__ import annotations

from typing import Literal

# What is trained (the estimator's training methods, the advisor's plans).
TrainMethod = Literal["lora", "qlora", "full"]
TRAIN_METHODS: tuple[str, ...] = ("lora", "qlora", "full")
# What the estimator sizes: training methods, and serving.
EstimateMethod = Literal["inference", "full", "lora", "qlora"]
ESTIMATE_METHODS: tuple[str, ...] = ("inference", "full", "lora", "qlora")
# What a tuning job runs: SFT with one of the training methods, or DPO on a LoRA/QLoRA base.
JobMethod = Literal["lora", "qlora", "full", "dpo"]
JOB_METHODS: tuple[str, ...] = ("lora", "qlora", "full", "dpo")
AdapterMethod = Literal["lora", "qlora"]
ADAPTER_METHODS: tuple[str, ...] = ("lora", "qlora")

Quant = Literal["none", "int8", "nf4"]
QUANTS: tuple[str, ...] = ("none", "int8", "nf4")
Precision = Literal["fp32", "fp16", "bf16"]
PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "bf16")
# Multi-GPU: none is DDP (or one GPU); ZeRO stages are DeepSpeed's; fsdp is FSDP full shard.
Sharding = Literal["none", "zero1", "zero2", "zero3", "fsdp"]
SHARDINGS: tuple[str, ...] = ("none", "zero1", "zero2", "zero3", "fsdp")
ZERO_STAGES: dict[str, int] = {"zero1": 1, "zero2": 2, "zero3": 3}
Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
# What answers prompts (lm.engines): transformers (the reference, and the engine on a GPU) or
# OpenVINO GenAI on a CPU (a converted GGUF, float32 compute); auto takes OpenVINO on a CPU when
# the model converts, else transformers.
Engine = Literal["auto", "transformers", "openvino"]
ENGINES: tuple[str, ...] = ("auto", "transformers", "openvino")
# The training stack whose choices (dtypes, loss, checkpointing) the estimator models; trl is what
# our tuning backend runs (estimator/stacks.py documents each with the source lines that decide it).
Stack = Literal["trl", "peft-trainer", "torchtune", "unsloth", "litgpt"]
STACKS: tuple[str, ...] = ("trl", "peft-trainer", "torchtune", "unsloth", "litgpt")
# The causal-LM loss: full fp32 logits (transformers' ForCausalLMLoss), chunked cross-entropy that
# keeps every chunk's log-probs, or fused (no full-vocabulary fp32 buffer kept for backward).
Loss = Literal["standard", "chunked", "fused"]
LOSSES: tuple[str, ...] = ("standard", "chunked", "fused")

METHOD_LABELS: dict[str, str] = {
    "inference": "serving",
    "lora": "LoRA",
    "qlora": "QLoRA",
    "full": "full fine-tuning",
    "dpo": "DPO",
}

# What the advisor recommends building: a prompt, retrieval, or one of the training methods.
Approach = Literal["prompting", "rag", "lora", "qlora", "full_finetune"]
APPROACHES: tuple[str, ...] = ("prompting", "rag", "lora", "qlora", "full_finetune")  # cheapest first
FINETUNE_APPROACHES: tuple[str, ...] = ("lora", "qlora", "full_finetune")
APPROACH_METHOD: dict[str, TrainMethod] = {"lora": "lora", "qlora": "qlora", "full_finetune": "full"}
APPROACH_LABELS: dict[str, str] = {
    "prompting": "Prompting",
    "rag": "RAG (retrieval-augmented generation)",
    "lora": "LoRA fine-tuning",
    "qlora": "QLoRA fine-tuning",
    "full_finetune": "Full fine-tuning",
}
APPROACH_SHORT_LABELS: dict[str, str] = {
    "prompting": "Prompting", "rag": "RAG", "lora": "LoRA", "qlora": "QLoRA", "full_finetune": "Full FT",
}
# How a fine-tuning job learns: from demonstrations (SFT) or from chosen/rejected pairs (DPO).
Recipe = Literal["sft", "dpo"]

DEFAULT_LORA_RANK = 16
DEFAULT_LORA_TARGETS = "all-linear"


def default_lora_alpha(rank: int) -> int:
    """alpha = 2r: the update scale alpha/r stays 2 whatever the rank."""
    return 2 * rank


DEFAULT_LR: dict[str, float] = {"lora": 2e-4, "qlora": 2e-4, "full": 1e-5, "dpo": 5e-6}
DEFAULT_EPOCHS = 2  # seeds: 1-3 epochs limit forgetting

# Task-aware scorers of a comparison (compare.scoring); a user's own is `python:MODULE:FUNCTION`.
ScorerName = Literal["json", "sql-exec"]
SCORERS: tuple[str, ...] = ("json", "sql-exec")
USER_SCORER_PREFIX = "python:"
