"""`Recommendation` and its parts: the contract of `recommend()`, the page, the report and
`ftadvisor advise --json`."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.fields import BatchSize, GradAccum, LearningRate, SeqLen
from common.vocabulary import Approach, Companion, EstimateMethod, Precision, Quant, Recipe, Sharding, TrainMethod


def label(primary: str, combine: list[str], recipe: str | None, then_dpo: bool = False,
          distilled: bool = False) -> str:
    """Short form used by scenarios and `what_would_change_it`: `lora + rag (sft)`,
    `lora (sft then dpo)`, `lora (sft, distilled)`."""
    out = " + ".join([primary, *combine])
    if not recipe:
        return out
    how = f"{recipe} then dpo" if then_dpo else recipe
    return f"{out} ({how}, distilled)" if distilled else f"{out} ({how})"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reason(_Model):
    rule: str = Field(description="The rule's name (advisor/rules/...).")
    text: str = Field(description="What the rule concluded, in words.")
    answers: list[str] = Field(description="The answers (field names) that drove it.")
    source: str = Field(description="Id of the source the rule rests on (advisor/sources.json).")
    source_title: str = Field("", description="That source's title, for a reader.")
    claim: str = Field(description="What the rule takes from the source, in our words.")
    correction: str | None = Field(None, description="Where a source is wrong, and what is right.")
    correction_source: str | None = Field(None, description="Id of the source of the correction.")
    correction_source_title: str | None = None
    effect: dict[str, float] = Field(default_factory=dict, description="Score change per approach.")
    rules_out: list[str] = Field(default_factory=list, description="Approaches this reason makes impossible.")
    supports: bool = Field(False, description="It argues for the recommended approach (or its hybrid partner).")


class Change(_Model):
    field: str = Field(description="The answer that would flip the recommendation.")
    current: Any = Field(description="Its value now.")
    value: Any = Field(description="The value that flips it.")
    result: str = Field(description="What would be recommended then, e.g. `lora + rag (sft)`.")
    text: str = Field(description="The change, in words.")


class NextStep(_Model):
    title: str
    command: str | None = Field(None, description="The exact `ftadvisor ...` command, if any.")
    detail: str = ""


class MethodFit(_Model):
    """One training (or serving) setup sized by the estimator (frozen: sizing caches it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: EstimateMethod
    gpu: str | None = Field(description="The GPU it was sized for (the user's, or the cheapest that fits).")
    gpus: int = Field(ge=1)
    rented: bool = Field(description="True when no GPU was named and this is the cheapest rental that fits.")
    gpu_memory_gib: float | None = Field(description="Memory of one such GPU, GiB.")
    memory_gib: dict[str, float] = Field(description="Per-GPU breakdown from the estimator, GiB.")
    total_gib: float = Field(description="Per-GPU total, GiB (CUDA context included).")
    fits: bool
    time_hours: float | None = None
    cost_usd: float | None = Field(None, description="At the catalog's on-demand price.")
    over_budget: bool = False
    sharding: Sharding = Field(
        "none", description="How the job is spread over the GPUs: none (one GPU or DDP copies) or fsdp/zero3."
    )
    quant: Quant = Field("none", description="Base-weight quantization it was sized with.")
    seq_len: int | None = Field(None, description="Sequence length it was sized at, tokens.")


class GpuRow(_Model):
    """One row of the which-GPUs-fit table for the recommended setup (cheapest first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu: str
    gpus: int | None = Field(description="Fewest GPUs of this type that fit (None: none do).")
    sharding: str = "none"
    gpu_memory_gib: float | None = None
    total_gib: float | None = Field(None, description="Per-GPU peak at that GPU count, GiB.")
    fits: bool = Field(description="Fits with some GPU count (up to the estimator's limit).")
    time_hours: float | None = None
    cost_usd: float | None = None
    note: str = ""


class FineTunePlan(_Model):
    method: TrainMethod
    recipe: Recipe
    model: str
    params_total: int
    params_trainable: int
    lora_rank: int | None
    lora_targets: str | None
    quant: Quant
    precision: Precision = "bf16"
    batch_size: BatchSize
    grad_accum: GradAccum = Field(
        description="Gradient accumulation steps (effective batch = batch_size x grad_accum).")
    sharding: Sharding = Field(description="Multi-GPU sharding (none: DDP or one GPU).")
    seq_len: SeqLen
    gradient_checkpointing: bool
    epochs: int
    learning_rate: LearningRate
    train_tokens: int
    fit: MethodFit
    examples: int = Field(0, description="What it trains on: demonstrations, preference pairs or distillation labels.")
    data_kind: Literal["examples", "pairs", "labels"] = "examples"
    dpo_stage: MethodFit | None = Field(
        None, description="The DPO stage after SFT (sized on the pairs), when there is one."
    )
    alternatives: list[MethodFit] = Field(description="Every method sized the same way.")
    gpu_table: list[GpuRow] = Field(default_factory=list)
    smaller_model: str | None = Field(
        None, description="A smaller model that fits the user's GPUs, if the asked one does not."
    )
    assumptions: list[str] = Field(default_factory=list)


class Source(_Model):
    file: str = Field(description="The source's id in advisor/sources.json (the key keeps its first name).")
    title: str = ""
    kind: str = ""
    where: str = ""
    url: str | None = None
    claims: list[str] = Field(description="What the rules take from it, in our words.")


class Distillation(_Model):
    """Label real traffic with the large model that works, fine-tune a small one on the labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    teacher: str = Field(description="The model whose prompted answers are good enough today.")
    student: str = Field(description="The smaller model to fine-tune and serve.")
    labels: int = Field(description="Real queries to answer with the teacher and train on.")
    traffic_hours: float | None = Field(None, description="Hours of today's traffic that many queries take.")


class Recommendation(_Model):
    headline: str = Field(description="The recommendation in one sentence.")
    primary: Approach
    combine_with: list[Companion] = Field(default_factory=list)
    recipe: Recipe | None = Field(None, description="sft or dpo, when fine-tuning.")
    then_dpo: bool = Field(False, description="SFT first, then DPO on the preference pairs.")
    distill: Distillation | None = Field(None, description="When the plan is to distil a large model into a small one.")
    ruled_out: dict[str, str] = Field(default_factory=dict, description="Approaches that cannot be used, and why.")
    scores: dict[str, float] = Field(description="Score of every approach; the highest wins.")
    reasons: list[Reason]
    warnings: list[str]
    what_would_change_it: list[Change] = Field(default_factory=list)
    next_steps: list[NextStep] = Field(default_factory=list)
    finetune: FineTunePlan | None = None
    serving: MethodFit | None = Field(None, description="Memory to serve the model (inference).")
    assumptions: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)

    def label(self) -> str:
        """Short form used by scenarios and `what_would_change_it`: `lora + rag (sft)`."""
        return label(self.primary, self.combine_with, self.recipe, self.then_dpo, self.distill is not None)
