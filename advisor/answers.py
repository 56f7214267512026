"""`Answers`: the questionnaire. Its fields are the contract for the page, the JSON file that
`ftadvisor advise/report` reads, and validation. Each description is the plain-language
question; `json_schema_extra` carries the page group and a help text."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.catalog import canonical_gpu, model_spec
from advisor.errors import AdvisorError
from common.fields import GpuCount
from common.vocabulary import Stack

Need = Literal[
    "tone_style",
    "output_format",
    "fresh_facts",
    "private_knowledge",
    "specialized_reasoning",
    "task_skill",
    "alignment",
    "cost_latency",
]
KnowledgeUpdate = Literal["never", "yearly", "monthly", "weekly", "daily"]
PromptingResult = Literal["untried", "good_enough", "inconsistent", "fails"]
DomainCoverage = Literal["common", "niche", "proprietary"]

# Plain-language labels for the enum values (page, report).
NEED_LABELS: dict[str, str] = {
    "tone_style": "A consistent voice or persona (tone, style)",
    "output_format": "A strict output format (e.g. always valid JSON)",
    "fresh_facts": "Answers from knowledge that changes (news, prices, policies)",
    "private_knowledge": "Answers from a private, mostly static knowledge base",
    "specialized_reasoning": "Domain vocabulary, syntax or reasoning the model lacks "
    "(e.g. SQL over our internal schema, legal or medical language)",
    "task_skill": "A narrow task skill (classification, extraction)",
    "alignment": "Behaviour rules (refusals, disclaimers, preferred responses)",
    "cost_latency": "Lower per-query cost or latency (e.g. move to a smaller model)",
}
KNOWLEDGE_NEEDS = ("fresh_facts", "private_knowledge")
BEHAVIOUR_NEEDS = ("tone_style", "output_format", "specialized_reasoning", "task_skill", "alignment")

GROUPS = {
    "goal": "Your goal",
    "data": "Your knowledge and data",
    "constraints": "Your model, hardware and constraints",
    "scale": "Your scale",
}


def _ui(group: str, help: str) -> dict[str, Any]:
    return {"group": group, "help": help}


class Answers(BaseModel):
    """What the user told us. Defaults describe a team that has not tried anything yet."""

    model_config = ConfigDict(extra="forbid")

    # -- goal -------------------------------------------------------------------------------
    use_case: str = Field(
        "",
        max_length=2000,
        description="What do you want the model to do?",
        json_schema_extra=_ui("goal", "One or two sentences, in your words. It goes into the report."),
    )
    needs: list[Need] = Field(
        default_factory=list,
        description="What must change compared with the base model?",
        json_schema_extra=_ui(
            "goal",
            "Pick all that apply. Tone, format and specialised reasoning are behaviours a model "
            "can learn; fresh or private facts are knowledge it should look up.",
        ),
    )
    prompting_result: PromptingResult = Field(
        "untried",
        description="How well does a well-written prompt (with a few examples) do today?",
        json_schema_extra=_ui(
            "goal",
            "good_enough: it already works; inconsistent: right sometimes; fails: wrong even "
            "with careful prompting; untried: you have not tried yet.",
        ),
    )
    requirements_stable: bool = Field(
        True,
        description="Are the requirements settled?",
        json_schema_extra=_ui(
            "goal", "Untick while the task is still exploratory and may change week to week."
        ),
    )
    keep_general_skills: bool = Field(
        False,
        description="Must the model keep its general skills (chat, coding, world knowledge)?",
        json_schema_extra=_ui(
            "goal", "Fine-tuning on a narrow task can erode general skills (catastrophic forgetting)."
        ),
    )
    # -- data -------------------------------------------------------------------------------
    knowledge_update: KnowledgeUpdate = Field(
        "never",
        description="How often does the knowledge the answers rely on change?",
        json_schema_extra=_ui("data", "never, yearly, monthly, weekly or daily."),
    )
    citations_required: bool = Field(
        False,
        description="Must answers cite their sources?",
        json_schema_extra=_ui("data", "Traceable answers: each claim points at a document."),
    )
    labeled_examples: int = Field(
        0,
        ge=0,
        le=100_000_000,
        description="How many good input/output examples do you have?",
        json_schema_extra=_ui(
            "data", "Pairs of a real input and the answer you want, checked by someone who knows."
        ),
    )
    preference_pairs: int = Field(
        0,
        ge=0,
        le=100_000_000,
        description="How many preference pairs (a chosen and a rejected answer) do you have?",
        json_schema_extra=_ui("data", "For preference tuning (DPO): the better and the worse answer."),
    )
    example_tokens: int = Field(
        512,
        ge=16,
        le=131_072,
        description="How long is a typical example, in tokens (input + output)?",
        json_schema_extra=_ui(
            "data", "Roughly 0.75 words per token in English. Sets the sequence length and cost."
        ),
    )
    domain_coverage: DomainCoverage = Field(
        "common",
        description="How well does a general model know your domain?",
        json_schema_extra=_ui(
            "data",
            "common: everyday topics; niche: specialised but public; proprietary: your own "
            "formats, schemas or jargon.",
        ),
    )
    # -- constraints ------------------------------------------------------------------------
    model: str = Field(
        "llama-3.1-8b",
        min_length=1,
        max_length=300,
        description="Which base model (a catalog name such as llama-3.1-8b, or a size such as 8b)?",
        json_schema_extra=_ui(
            "constraints",
            "Any model the estimator knows, or a size like 8b or 70b. Add -instruct "
            "(llama-3.1-8b-instruct) for the instruction-tuned release; DPO on pairs alone needs one.",
        ),
    )
    gpu: str | None = Field(
        None,
        max_length=100,
        description="Which GPU do you have (none if you would rent)?",
        json_schema_extra=_ui(
            "constraints", "A catalog name such as A100 80GB, H100 SXM or RTX 4090 (case and dashes ignored)."
        ),
    )
    gpu_count: GpuCount = Field(
        1,
        description="How many of those GPUs?",
        json_schema_extra=_ui("constraints", "GPUs you can use for one training job."),
    )
    stack: Stack = Field(
        "trl",
        description="Which training stack will you train with?",
        json_schema_extra=_ui(
            "constraints", "It decides the bytes: trl (ftadvisor's own backend) trains in pure bf16 with a fused "
            "loss; peft-trainer keeps fp32 adapters and, for QLoRA, fp32 embeddings; torchtune, unsloth and "
            "litgpt as their recipes do (README, Estimator).",
        ),
    )
    budget_usd: float | None = Field(
        None,
        ge=0,
        le=1e9,
        description="What is your compute budget for training, in US dollars (none if no limit)?",
        json_schema_extra=_ui(
            "constraints",
            "Compared with each plan's estimated cost at on-demand rental prices, your own GPUs "
            "included; a plan that costs more is ruled out. Leave it empty if your GPU time is free.",
        ),
    )
    data_must_stay_on_prem: bool = Field(
        False,
        description="Must the data stay on your own machines?",
        json_schema_extra=_ui("constraints", "Rules out hosted model and fine-tuning APIs."),
    )
    # -- scale ------------------------------------------------------------------------------
    queries_per_day: int = Field(
        0,
        ge=0,
        le=10_000_000_000,
        description="How many queries a day do you expect in production?",
        json_schema_extra=_ui(
            "scale", "At high volume, a smaller fine-tuned model can cost much less per query."
        ),
    )

    @field_validator("needs")
    @classmethod
    def _dedupe_needs(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("use_case")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, value: str | None) -> str | None:
        if value is None or not value.strip() or value.strip().lower() == "none":
            return None
        return canonical_gpu(value)  # raises a ValueError listing close names

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        value = value.strip()
        model_spec(value)  # raises a ValueError listing close names
        return value

    def behaviour_needs(self) -> list[str]:
        return [n for n in self.needs if n in BEHAVIOUR_NEEDS]

    def knowledge_needs(self) -> list[str]:
        return [n for n in self.needs if n in KNOWLEDGE_NEEDS]


def load_answers(path: str | Path) -> Answers:
    """Read an answers JSON file. Malformed JSON -> AdvisorError with line and column;
    bad values -> pydantic ValidationError naming each field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AdvisorError(f"--answers: no such file: {path}") from None
    except UnicodeDecodeError as exc:
        raise AdvisorError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_answers(text, source=str(path))


def parse_answers(text: str, source: str = "answers") -> Answers:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdvisorError(
            f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise AdvisorError(f"{source}: expected a JSON object of answers, got {type(data).__name__}")
    return Answers.model_validate(data)
