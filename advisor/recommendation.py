"""`Recommendation` and its parts: the contract of `recommend()`, the page, the report and
`ftadvisor advise --json`."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from common.vocabulary import EstimateMethod, Precision, Quant, Sharding, TrainMethod

Approach = Literal["prompting", "rag", "lora", "qlora", "full_finetune"]
Recipe = Literal["sft", "dpo"]

APPROACH_LABELS: dict[str, str] = {
    "prompting": "Prompting",
    "rag": "RAG (retrieval-augmented generation)",
    "lora": "LoRA fine-tuning",
    "qlora": "QLoRA fine-tuning",
    "full_finetune": "Full fine-tuning",
}
# Approach -> the estimator's / `ftadvisor tune`'s method name.
TRAIN_METHOD: dict[str, TrainMethod] = {"lora": "lora", "qlora": "qlora", "full_finetune": "full"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reason(_Model):
    rule: str = Field(description="The rule's name (advisor/rules/...).")
    text: str = Field(description="What the rule concluded, in words.")
    answers: list[str] = Field(description="The answers (field names) that drove it.")
    source: str = Field(description="Seed file (or `estimator`) the rule rests on.")
    claim: str = Field(description="The source's words the rule rests on.")
    correction: str | None = Field(None, description="Where the source is wrong, and what is right.")
    effect: dict[str, float] = Field(default_factory=dict, description="Score change per approach.")
    supports: bool = Field(False, description="It raised the recommended approach (or its hybrid partner).")


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
    batch_size: int
    grad_accum: int = Field(description="Gradient accumulation steps (effective batch = batch_size x grad_accum).")
    sharding: Sharding = Field(description="Multi-GPU sharding (none: DDP or one GPU).")
    seq_len: int
    gradient_checkpointing: bool
    epochs: int
    learning_rate: float
    train_tokens: int
    fit: MethodFit
    alternatives: list[MethodFit] = Field(description="Every method sized the same way.")
    gpu_table: list[GpuRow] = Field(default_factory=list)
    smaller_model: str | None = Field(None, description="A smaller model that fits the user's GPUs, if the asked one does not.")
    assumptions: list[str] = Field(default_factory=list)


class Source(_Model):
    file: str
    claims: list[str]


class Recommendation(_Model):
    headline: str = Field(description="The recommendation in one sentence.")
    primary: Approach
    combine_with: list[Literal["rag", "prompting"]] = Field(default_factory=list)
    recipe: Recipe | None = Field(None, description="sft or dpo, when fine-tuning.")
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
        out = " + ".join([self.primary, *self.combine_with])
        return f"{out} ({self.recipe})" if self.recipe else out
