"""The training settings that several request models share (`tuning.spec.JobSpec`, the comparison's
`FinetuneSettings`, `estimator.EstimateRequest`, the advisor's `Answers` and `FineTunePlan`), each
with one bound and one description, written here. A model keeps its own default and may say more
in its own description; the bounds stay:

    lora_rank: LoraRank = DEFAULT_LORA_RANK
    batch_size: BatchSize = Field(1, description="Micro-batch size per GPU (sequences).")

Each bound is the loosest one the models had before they shared it, so every spec.json saved
earlier still loads on a resume, and the estimator still takes the measured lengths and epochs
the comparison hands it (a padded batch of a few tokens, hundreds of epochs of a small split).

A type that may be empty is written `Annotated[T | None, Field(...)]`: `Annotated[T, Field(...)] | None`
validates alike but hides the bounds and the description from the field, where the forms
(`ui.forms`) and the flags (`cli.fields`) read them.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

LoraRank = Annotated[int, Field(ge=1, le=1024, description="LoRA rank r.")]
# Empty means 2 x rank (common.vocabulary.default_lora_alpha): a default that depends on the
# rank, so each spec fills it in a validator. An int, as peft's LoraConfig declares it: the whole
# float older versions saved (32.0) still loads (pydantic takes a whole float for an int); a
# fractional one, which only `tune --alpha` could give, is refused naming lora_alpha.
LoraAlpha = Annotated[int | None, Field(
    ge=1, le=4096, description="LoRA alpha: the update is scaled by alpha / r; default 2 x rank.")]
LoraDropout = Annotated[float, Field(ge=0, lt=1, description="Dropout on the LoRA input.")]

_LEARNING_RATE = {"gt": 0, "le": 1}
LearningRate = Annotated[float, Field(**_LEARNING_RATE, description="Peak learning rate.")]
# JobSpec's: empty takes the method's rate (common.vocabulary.DEFAULT_LR).
LearningRateOrDefault = Annotated[float | None, Field(
    **_LEARNING_RATE, description="Peak learning rate; default by method.")]
Epochs = Annotated[float, Field(gt=0, le=1000, description="Passes over the training data (1-3 advised).")]
MaxSteps = Annotated[int | None, Field(ge=1, description="Stop after this many steps (overrides epochs).")]

BatchSize = Annotated[int, Field(ge=1, le=4096, description="Examples per device per step.")]
GradAccum = Annotated[int, Field(ge=1, le=4096, description="Gradient accumulation steps.")]
SeqLen = Annotated[int, Field(ge=1, le=2_097_152, description="Longest sequence in tokens; longer ones are cut.")]
GpuCount = Annotated[int, Field(ge=1, le=4096, description="Number of GPUs.")]
