"""`CompareSpec`: everything one comparison run needs, saved as the run folder's `spec.json`.

Five arms answer the same held-out questions with the same generation settings:
`base` (the model asked zero-shot), `fewshot` (prompted as a practitioner prompts: with the
training pairs nearest each question as demonstrations), `rag` (the model + retrieved passages),
`finetuned` (a QLoRA or LoRA adapter trained on the training split) and `finetuned_rag` (the
hybrid).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.fields import BatchSize, Epochs, LearningRate, LoraAlpha, LoraDropout, LoraRank, MaxSteps, SeqLen
from common.paths import resolve_user_path
from common.vocabulary import (
    DEFAULT_EPOCHS,
    DEFAULT_LORA_RANK,
    DEFAULT_LR,
    AdapterMethod,
    Approach,
    Engine,
    default_lora_alpha,
)
from compare.scoring.spec import ScorerSpec
from tuning.data.schemas import FieldMapping

ArmName = Literal["base", "fewshot", "rag", "finetuned", "finetuned_rag"]
ARMS: tuple[ArmName, ...] = get_args(ArmName)


@dataclass(frozen=True)
class ArmTraits:
    """What an arm adds to the base model asked zero-shot, and its title."""

    title: str
    retrieval: bool = False  # its prompts carry retrieved passages
    adapter: bool = False  # a fine-tuned adapter answers
    examples: str | None = None  # the PromptingSettings field: its demonstrations per question


ARM_TRAITS: dict[ArmName, ArmTraits] = {
    "base": ArmTraits("Base model (zero-shot)"),
    "fewshot": ArmTraits("Few-shot prompting", examples="fewshot_examples"),
    "rag": ArmTraits("Base + RAG", retrieval=True, examples="rag_examples"),
    "finetuned": ArmTraits("Fine-tuned", adapter=True),
    "finetuned_rag": ArmTraits("Fine-tuned + RAG (hybrid)", retrieval=True, adapter=True),
}
ARM_TITLES: dict[str, str] = {arm: traits.title for arm, traits in ARM_TRAITS.items()}
RETRIEVAL_ARMS = frozenset(arm for arm, traits in ARM_TRAITS.items() if traits.retrieval)
FINETUNED_ARMS = frozenset(arm for arm, traits in ARM_TRAITS.items() if traits.adapter)
# A training row's question: the question alone, or with its retrieved passages (RAFT).
PromptStyle = Literal["bare", "retrieval"]
PROMPT_STYLES: tuple[PromptStyle, ...] = get_args(PromptStyle)
# What one adapter trains on: one style, or both (`mix`); `separate` trains one adapter per
# fine-tuned arm on the prompts that arm sends.
AdapterPrompts = Literal[PromptStyle, "mix"]
TrainPrompts = Literal["separate", AdapterPrompts]
# Metrics the comparison computes for every arm that can rank the arms (besides a task scorer's name);
# the binary ones score each answer 0 or 1.
BinaryMetric = Literal["answer_correct", "exact_match"]
BINARY_METRICS: tuple[BinaryMetric, ...] = get_args(BinaryMetric)
TextMetric = Literal[BinaryMetric, "token_f1", "rouge_l"]
TEXT_METRICS: tuple[TextMetric, ...] = get_args(TextMetric)
SCHEMA_VERSION = 1


class GenerationSettings(BaseModel):
    """The same for every arm, so differences come from the arm and not from decoding."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(64, ge=1, le=4096, description="Most tokens generated per answer.")
    batch_size: int = Field(8, ge=1, le=256, description="Questions answered at once (left padding); greedy answers "
                            "equal one-at-a-time answers.")
    latency_sample: int = Field(3, ge=0, le=100, description="Questions answered again one at a time, for the "
                                "single-request latency.")
    greedy: bool = Field(True, description="Greedy decoding (reproducible); off samples with the temperature.")
    temperature: float = Field(0.7, gt=0, le=2, description="Sampling temperature when not greedy.")
    system_prompt: str | None = Field(
        None, max_length=4000, description="A system prompt given to every arm (optional)."
    )
    engine: Engine = Field(
        "auto", description="What runs the model: transformers (the reference; the engine on a GPU) or OpenVINO "
        "(a CPU engine on a converted copy, float32, same greedy answers); auto: OpenVINO on a CPU when the model "
        "converts (Llama with a byte-level BPE tokenizer, LoRA or no adapter), else transformers.")


class RagSettings(BaseModel):
    """Retrieval for the `rag` and `finetuned_rag` arms."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(3, ge=1, le=50, description="Passages retrieved per question (and the k of hit@k).")
    chunk_size: int = Field(800, ge=50, le=8000, description="Characters per chunk when indexing documents.")
    chunk_overlap: int = Field(100, ge=0, le=3999, description="Characters shared by consecutive chunks.")
    mmr: bool = Field(False, description="Diversify the passages with maximal marginal relevance.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> RagSettings:
        # rag_baseline.chunking.validate_sizes: the overlap stays under half a chunk.
        if self.chunk_overlap >= self.chunk_size // 2:
            raise ValueError(
                f"chunk_overlap must be below half the chunk_size ({self.chunk_size // 2}), got {self.chunk_overlap}"
            )
        return self


class PromptingSettings(BaseModel):
    """Demonstrations: the training pairs whose questions are nearest each held-out question (by the
    embedder retrieval uses), given as earlier chat turns, the nearest last; never the question itself."""

    model_config = ConfigDict(extra="forbid")

    fewshot_examples: int = Field(4, ge=1, le=64, description="Demonstrations the fewshot arm gets per question.")
    rag_examples: int = Field(0, ge=0, le=64, description="Demonstrations the rag arm gets too, before its passages "
                              "(0: none): the usual way to fix RAG's answer format without training.")


# Steps per adapter on a CPU unless told otherwise: with SmolLM2-135M, 30 steps of retrieval prompts
# took the hybrid from token F1 0.15 (RAG alone) to 0.90 on facts only the documents hold
# (README, Compare: what the hybrid trains on), where 2 epochs of sql-eval would take 84 steps
# (~13 min on 2 cores for the hybrid alone, at ~9 s a step: docs/compare.md, Training time on a CPU).
CPU_STEP_BUDGET = 30


# Passages per retrieval training prompt: the oracle and one distractor (RAFT). Measured on
# bench/data/fictional_facts (bench/results/train_tokens.md): the oracle alone trains on 38% fewer
# tokens but the hybrid then took numbers and colours from the other passages it is served
# (4 of 10 right against 5); with one distractor it keeps the 5, and never trains on more passages
# than 2 (the --seq-len fit kept 2 of k = 3 there, and can drop the oracle when it ranks last).
TRAIN_PASSAGES = 2


class FinetuneSettings(BaseModel):
    """Training for the `finetuned` and `finetuned_rag` arms (one adapter serves both)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["auto", AdapterMethod] = Field(
        "auto", description="QLoRA (4-bit NF4 base) or LoRA (16-bit base); auto: QLoRA on a GPU, LoRA on a CPU, where "
        "bitsandbytes' 4-bit matmuls are several times slower than 16-bit ones.")
    lora_rank: LoraRank = DEFAULT_LORA_RANK
    lora_alpha: LoraAlpha = None
    lora_dropout: LoraDropout = 0.05
    learning_rate: LearningRate = Field(DEFAULT_LR["lora"], description="Peak learning rate (LoRA: 1e-5..2e-4 keeps "
                                        "general skills).")
    epochs: Epochs = DEFAULT_EPOCHS
    max_steps: MaxSteps = None
    cpu_step_budget: int = Field(
        CPU_STEP_BUDGET, ge=0, le=1_000_000, description="On a CPU, each adapter stops after this many steps when "
        "its epochs would take more (0: train the epochs). A probe, not a production run: on 2 cores a step of 4 "
        "retrieval prompts takes ~9 s; --max-steps overrides it.")
    batch_size: BatchSize = 4
    max_seq_len: SeqLen = 512
    train_prompts: TrainPrompts = Field(
        "separate", description="What the adapters train on: separate (one adapter per fine-tuned arm, each on the "
        "prompts its arm sends: bare questions for finetuned, the question with its retrieved passages for the "
        "hybrid, as RAFT does); or one adapter for both arms on bare, retrieval or mixed prompts.")
    train_passages: int = Field(
        TRAIN_PASSAGES, ge=0, le=50, description="Passages in each retrieval training prompt, as RAFT trains: "
        "the oracle (the retrieved passage from the relevant-field document, else the first that states the "
        "answer) and the highest-ranked others as distractors, in retrieval order (0: the k retrieved). "
        "Held-out questions always get the k retrieved.")
    distractor_only_share: float = Field(
        0.0, ge=0, lt=1, description="Share of the retrieval training prompts, drawn with the seed, that get "
        "distractors only (RAFT's 1 - P): the answer is then not in the prompt.")

    @model_validator(mode="after")
    def _alpha_follows_rank(self) -> FinetuneSettings:
        """Empty alpha is 2 x rank (common.vocabulary), whichever entry point built the settings."""
        if self.lora_alpha is None:
            self.lora_alpha = default_lora_alpha(self.lora_rank)
        return self


# The advisor's approach -> the arm that puts it into practice.
APPROACH_ARM: dict[Approach, ArmName] = {"prompting": "fewshot", "rag": "rag", "lora": "finetuned",
                                         "qlora": "finetuned", "full_finetune": "finetuned"}


class AdvisedArm(BaseModel):
    """What the advisor recommended for the answers a comparison was launched from."""

    model_config = ConfigDict(extra="forbid")

    approach: str = Field(description="The advisor's primary approach (prompting, rag, lora, qlora, full_finetune).")
    combine_with: list[str] = Field(default_factory=list)
    headline: str = ""

    @property
    def arm(self) -> ArmName:
        arm = APPROACH_ARM.get(self.approach, "base")
        return "finetuned_rag" if arm == "finetuned" and "rag" in self.combine_with else arm


class CompareSpec(BaseModel):
    """One comparison run. Paths are stored absolute so the worker can run from anywhere."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    kind: Literal["compare"] = "compare"
    data: Path = Field(description="Question/answer dataset (JSONL, JSON, CSV or Parquet).")
    mapping: FieldMapping | None = Field(
        None, description="Column mapping when the file's columns are not a known shape."
    )
    relevant_field: str | None = Field(
        None,
        description="Column naming the document that answers each question (matched against document "
        "file names without extension), for hit@k; without it a hit is a passage containing the answer.",
    )
    docs: list[Path] = Field(
        default_factory=list,
        description="Documents for retrieval (files or folders); none: the training answers become the knowledge base.",
    )
    model: str = Field(min_length=1, description="Base model: a hub id, a local model folder, or an offline model "
                       "(smollm2-135m-instruct, tiny). Stored as an absolute folder or a hub id.")
    arms: list[ArmName] = Field(default_factory=lambda: list(ARMS), min_length=1, description="Arms to run.")
    eval_fraction: float = Field(0.2, gt=0, lt=1, description="Share of the examples held out for the comparison.")
    eval_count: int | None = Field(
        None, ge=1, le=100_000, description="At most this many held-out questions are answered."
    )
    seed: int = Field(42, ge=0, description="Seed of the split, the training and sampling.")
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    rag: RagSettings = Field(default_factory=RagSettings)
    prompting: PromptingSettings = Field(default_factory=PromptingSettings)
    finetune: FinetuneSettings = Field(default_factory=FinetuneSettings)
    forgetting_text: Path | None = Field(
        None, description="General text for the forgetting check (perplexity before/after); built-in when unset."
    )
    scoring: ScorerSpec | None = Field(
        None, description="Task-aware scorers (json, sql-exec, python:MODULE:FUNCTION) next to exact match, token F1 "
        "and ROUGE-L; sql-exec loads the .sql dumps among the documents unless given a server URL.")
    primary_metric: str | None = Field(
        None, description="The metric the evidence ranks the arms by: answer_correct, exact_match, token_f1, rouge_l "
        "or a scorer's name. Default: the first task scorer, else answer_correct when the references are short "
        "(median 8 tokens or fewer), else token_f1.")
    gpu: str = Field("A100 80GB", min_length=1, description="GPU the costs are estimated at (catalog name).")
    concurrency: int = Field(8, ge=1, le=4096, description="Requests the serving estimate decodes together on that "
                             "GPU (continuous batching).")
    answers_key: str | None = Field(
        None, description="Key of the advisor answers this comparison was launched from (compare.answers_key)."
    )
    advised: AdvisedArm | None = Field(None, description="The advisor's recommendation for those answers.")
    output: Path = Field(description="The run folder.")

    @field_validator("model")
    @classmethod
    def _resolved_model(cls, value: str) -> str:
        from lm.refs import resolve_model  # names are pulled, folders made absolute, once

        return resolve_model(value)

    @model_validator(mode="before")
    @classmethod
    def _dumps_from_docs(cls, data: Any) -> Any:
        """sql-exec without a server URL loads the dumps given as documents (the schemas retrieval
        reads are the databases the queries run on)."""
        scoring = data.get("scoring") if isinstance(data, dict) else None
        if isinstance(scoring, dict) and not scoring.get("sql_url") and not scoring.get("sql_dumps"):
            names = scoring.get("names") or []
            if "sql-exec" in (names.split(",") if isinstance(names, str) else names) and data.get("docs"):
                data = {**data, "scoring": {**scoring, "sql_dumps": list(data["docs"])}}
        return data

    @model_validator(mode="after")
    def _absolute_paths(self) -> CompareSpec:
        self.data = resolve_user_path(self.data, "data")
        self.docs = [resolve_user_path(d, "docs") for d in self.docs]
        self.output = resolve_user_path(self.output, "output")
        if self.forgetting_text is not None:
            self.forgetting_text = resolve_user_path(self.forgetting_text, "forgetting_text")
        self.arms = [a for a in ARMS if a in set(self.arms)]  # canonical order, no repeats
        return self

    @model_validator(mode="after")
    def _known_primary_metric(self) -> CompareSpec:
        allowed = [*TEXT_METRICS, *(self.scoring.names if self.scoring else [])]
        if self.primary_metric is not None and self.primary_metric not in allowed:
            raise ValueError(f"primary_metric must be one of {', '.join(allowed)}, got {self.primary_metric!r}")
        return self

    @property
    def needs_training(self) -> bool:
        return bool(FINETUNED_ARMS & set(self.arms))

    @property
    def needs_retrieval(self) -> bool:
        return bool(RETRIEVAL_ARMS & set(self.arms))

    @property
    def needs_examples(self) -> bool:
        """Whether some arm is given demonstrations (the examples stage picks them)."""
        return any(self.examples_for(arm) for arm in self.arms)

    def examples_for(self, arm: str) -> int:
        """Demonstrations `arm` gets per question."""
        field = ARM_TRAITS[arm].examples
        return getattr(self.prompting, field) if field else 0

    def check_inputs(self) -> None:
        """Fail early, with the path, when an input file or folder is missing."""
        from compare.errors import CompareError

        for field, path in (("data", self.data), ("forgetting_text", self.forgetting_text)):
            if path is not None and not path.is_file():
                why = f"{path} is a folder: give a file" if path.is_dir() else f"no such file {path}"
                raise CompareError(f"{field}: {why}")
        for doc in self.docs:
            if not doc.exists():
                raise CompareError(f"docs: no such file or folder {doc}")
