"""The contracts of the dataset layer: how columns map, what one example is, what a problem is."""
from __future__ import annotations

import string
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.text import one_line
from common.vocabulary import Recipe
from tuning.data.readers import DataFormat

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[str, ...] = get_args(Role)


def template_fields(template: str | None) -> list[str]:
    """Column names a prompt template uses: '{question} ({db_name})' -> ['question', 'db_name']."""
    if not template:
        return []
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"invalid prompt template {template!r} ({exc})") from exc
    if any(not n or n.isdigit() for n in names):
        raise ValueError(f"prompt template {template!r}: name each column, e.g. {{question}}")
    return list(dict.fromkeys(names))


class FieldMapping(BaseModel):
    """Which columns of the file hold what, for files whose columns are not a recognised shape.

    Fields left unset fall back to the standard names (`prompt`, `completion`, `chosen`,
    `rejected`), so `--completion-field query` alone works on a file with a `prompt` column.
    """

    model_config = ConfigDict(extra="forbid")

    prompt_field: str | None = Field(None, min_length=1, description="Column with the prompt (input text).")
    completion_field: str | None = Field(None, min_length=1, description="Column with the answer to train on (SFT).")
    messages_field: str | None = Field(
        None, min_length=1, description="Column with a chat: a list of {role, content} (or that list as JSON text)."
    )
    system_field: str | None = Field(None, min_length=1, description="Column with a system prompt (optional).")
    chosen_field: str | None = Field(None, min_length=1, description="Column with the preferred answer (DPO).")
    rejected_field: str | None = Field(None, min_length=1, description="Column with the rejected answer (DPO).")
    prompt_template: str | None = Field(
        None,
        min_length=1,
        description="Build the prompt from several columns, e.g. '{question}\\n-- database: {db_name}' "
        "(Python format fields name columns); replaces prompt_field.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> FieldMapping:
        text_fields = [self.prompt_field, self.completion_field, self.chosen_field, self.rejected_field]
        if self.messages_field and (any(text_fields) or self.prompt_template):
            raise ValueError("messages_field cannot be combined with prompt/completion/chosen/rejected fields")
        if self.prompt_template and self.prompt_field:
            raise ValueError("give prompt_template or prompt_field, not both")
        template_fields(self.prompt_template)
        if not (any(text_fields) or self.messages_field or self.prompt_template or self.system_field):
            raise ValueError("a field mapping needs at least one field (e.g. prompt_field and completion_field)")
        return self


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str


class Example(BaseModel):
    """One normalised training example, in one of three forms:
    SFT `prompt` + `completion`, SFT chat `messages`, or DPO `prompt` + `chosen` + `rejected`.
    `source_line` is the file's line (JSONL, CSV) or the 1-based record index (JSON, Parquet)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = None
    completion: str | None = None
    messages: list[Message] | None = None
    chosen: str | None = None
    rejected: str | None = None
    system: str | None = None
    source_line: int = Field(ge=0)

    @model_validator(mode="after")
    def _one_form(self) -> Example:
        forms = {
            "messages": self.messages is not None,
            "prompt_completion": self.prompt is not None and self.completion is not None,
            "preference": self.prompt is not None and self.chosen is not None and self.rejected is not None,
        }
        if sum(forms.values()) != 1:
            raise ValueError(
                "an example is either prompt+completion, messages, or prompt+chosen+rejected (exactly one)"
            )
        return self

    def text(self) -> str:
        """The whole example as one text: what duplicates and lengths are measured on."""
        if self.messages is not None:
            return "\n".join(f"{m.role}: {m.content}" for m in self.messages)
        parts = [self.system, self.prompt, self.completion, self.chosen, self.rejected]
        return "\n".join(p for p in parts if p)

    def to_trl(self, chat: bool = False) -> dict:
        """The row trl's SFTTrainer/DPOTrainer expect: `{prompt, completion}`, `{messages}` or
        `{prompt, chosen, rejected}`; conversational (lists of messages) when there is a system
        prompt, or with `chat` (the tokenizer has a chat template: training then sees the template
        `generate_answers` uses). The recipes train on these rows; lengths are measured on them."""
        if self.messages is not None:
            return {"messages": [m.model_dump() for m in self.messages]}
        answers = {"completion": self.completion} if self.chosen is None else {
            "chosen": self.chosen, "rejected": self.rejected
        }
        if self.system is None and not chat:
            return {"prompt": self.prompt, **answers}
        system = [] if self.system is None else [{"role": "system", "content": self.system}]
        prompt = [*system, {"role": "user", "content": self.prompt}]
        return {"prompt": prompt, **{k: [{"role": "assistant", "content": v}] for k, v in answers.items()}}


class Problem(BaseModel):
    """One thing wrong with the data, which blocks training. `line` is 1-based (the file's line
    for JSONL/CSV, the record index for JSON/Parquet); None when the problem is the whole file."""

    model_config = ConfigDict(extra="forbid")

    file: str
    line: int | None = None
    field: str | None = None
    message: str
    severity: Literal["error"] = Field("error", description="Always 'error': every problem listed blocks training.")

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line else self.file
        return one_line(f"{where}: {self.message}")  # a file name or a column cannot start a line of its own


class LoadedDataset(BaseModel):
    """What `load_examples` read: the valid examples, the shape found and every problem (up to the cap)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    format: DataFormat
    kind: Recipe
    shape: str | None = Field(None, description="Detected shape name, 'mapped' with a FieldMapping, None if unknown.")
    columns: list[str] = Field(default_factory=list, description="Columns (keys) found in the file.")
    total: int = Field(0, description="Records read (valid or not), not counting blank lines.")
    examples: list[Example] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    problems_total: int = Field(0, description="Problems found, including those beyond the cap.")

    @property
    def ok(self) -> bool:
        return self.problems_total == 0 and bool(self.examples)
