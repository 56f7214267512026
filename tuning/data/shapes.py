"""The dataset shapes we recognise, how a file's shape is detected, and how one raw record becomes
an `Example` (or the problems that stop it). Each shape maps roles (prompt, completion, ...) to
the columns that hold them."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from common import flags
from common.vocabulary import Recipe
from tuning.data.readers import TOO_DEEP
from tuning.data.schemas import ROLES, Example, FieldMapping, template_fields
from tuning.errors import DatasetError


@dataclass(frozen=True)
class Shape:
    name: str
    kind: Recipe
    columns: dict[str, str]  # role -> column; roles: prompt, input, completion, messages, system, chosen, rejected
    optional: frozenset[str] = frozenset()  # roles that may be absent or empty
    template: str | None = None  # builds the prompt from several columns (mapping only)

    @property
    def label(self) -> str:
        return "/".join(self.columns.values())

    def required_columns(self) -> list[str]:
        cols = [c for role, c in self.columns.items() if role not in self.optional]
        return cols + template_fields(self.template)


# Detection order breaks ties: `instruction/input/output` also has `input/output`.
SHAPES: tuple[Shape, ...] = (
    Shape("messages", "sft", {"messages": "messages"}),
    Shape("prompt_completion", "sft", {"prompt": "prompt", "completion": "completion"}),
    Shape("alpaca", "sft", {"prompt": "instruction", "input": "input", "completion": "output"}, frozenset({"input"})),
    Shape("question_answer", "sft", {"prompt": "question", "completion": "answer"}),
    Shape("input_output", "sft", {"prompt": "input", "completion": "output"}),
    Shape("dpo", "dpo", {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}),
)
# The columns a mapping names for each kind (their flags: common.flags.MAPPING).
_MAPPED_COLUMNS = {"sft": ("prompt_field", "completion_field"),
                   "dpo": ("prompt_field", "chosen_field", "rejected_field")}


def recognised_shapes(kind: Recipe) -> str:
    return ", ".join(s.label for s in SHAPES if s.kind == kind)


def shape_hint(kind: Recipe) -> str:
    """The end of every 'what shape is this' message: what we recognise and how to map the rest."""
    mapping_flags = "/".join(flags.MAPPING[column] for column in _MAPPED_COLUMNS[kind])
    return f"recognised shapes ({kind}): {recognised_shapes(kind)}; map other columns with {mapping_flags}"


def shape_from_mapping(mapping: FieldMapping, kind: Recipe) -> Shape:
    m = mapping
    other_kind = {"sft": ("chosen_field", "rejected_field"), "dpo": ("completion_field", "messages_field")}[kind]
    for name in (n for n in other_kind if getattr(m, n)):
        needs = "prompt/chosen/rejected" if kind == "dpo" else "prompt/completion or messages"
        raise DatasetError(f"{name} does not apply to {kind} data, which needs {needs} fields", field=name)
    if m.messages_field:
        cols = {"messages": m.messages_field}
    elif kind == "dpo":
        cols = {"prompt": m.prompt_field or "prompt", "chosen": m.chosen_field or "chosen",
                "rejected": m.rejected_field or "rejected"}
    else:
        cols = {"prompt": m.prompt_field or "prompt", "completion": m.completion_field or "completion"}
    if m.prompt_template:
        del cols["prompt"]
    optional = frozenset()
    if m.system_field:
        cols["system"] = m.system_field
        optional = frozenset({"system"})  # a row without a system prompt is fine
    return Shape("mapped", kind, cols, optional, m.prompt_template)


def detect_shape(records: list[Any], kind: Recipe) -> Shape | None:
    """The recognised shape whose required columns most records have (ties: SHAPES order)."""
    best, best_count = None, 0
    for shape in (s for s in SHAPES if s.kind == kind):
        need = shape.required_columns()
        count = sum(1 for r in records if isinstance(r, dict) and all(c in r for c in need))
        if count > best_count:
            best, best_count = shape, count
    return best


@dataclass
class Normalised:
    example: Example | None = None
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (field, message)


def normalise(record: Any, shape: Shape, line: int) -> Normalised:
    """One raw record -> an Example, or every problem that stops it (field, message)."""
    out = Normalised()
    if not isinstance(record, dict):
        out.problems.append((None, f"expected an object with fields, got {_type_name(record)}"))
        return out
    values: dict[str, Any] = {}
    for role, column in shape.columns.items():
        getter = _messages if role == "messages" else _text
        values[role] = getter(record, column, role, shape, out.problems)
    if shape.template:
        values["prompt"] = _from_template(record, shape.template, out.problems)
    if out.problems:
        return out
    if "input" in values:  # Alpaca: prompt = instruction + blank line + input (when there is one)
        extra = values.pop("input")
        values["prompt"] = values["prompt"] + (f"\n\n{extra}" if extra else "")
    out.example = Example(source_line=line, **{k: v for k, v in values.items() if v is not None})
    return out


def _text(record: dict, column: str, role: str, shape: Shape, problems: list) -> str | None:
    optional = role in shape.optional
    if column not in record:
        if not optional:
            problems.append((column, _missing(column, role, shape)))
        return None
    value = record[column]
    if value is None or (isinstance(value, str) and not value.strip()):
        if not optional:
            problems.append((column, f"field '{column}' is empty" + (" (null)" if value is None else "")))
        return None
    if not isinstance(value, str):
        problems.append((column, f"field '{column}' must be text, got {_type_name(value)}"))
        return None
    return value


def _messages(record: dict, column: str, role: str, shape: Shape, problems: list) -> list | None:
    if column not in record:
        problems.append((column, _missing(column, role, shape)))
        return None
    value = record[column]
    if isinstance(value, str):  # CSV/Parquet cells hold the chat as JSON text
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            problems.append((column, f"field '{column}' is not a JSON list of messages ({exc.msg})"))
            return None
        except RecursionError:
            problems.append((column, f"field '{column}': {TOO_DEEP}"))
            return None
    if not isinstance(value, list):
        got = _type_name(value)
        problems.append((column, f"field '{column}' must be a list of {{role, content}} messages, got {got}"))
        return None
    if not value:
        problems.append((column, f"field '{column}' is empty (no messages)"))
        return None
    before = len(problems)
    for i, msg in enumerate(value):
        where = f"{column}[{i}]"
        if not isinstance(msg, dict):
            problems.append((where, f"{where} must be an object with role and content, got {_type_name(msg)}"))
        elif msg.get("role") not in ROLES:
            got = f"unknown role {msg['role']!r}" if "role" in msg else "missing field 'role'"
            problems.append((f"{where}.role", f"{where}: {got} (expected one of {', '.join(ROLES)})"))
        elif "content" not in msg:
            problems.append((f"{where}.content", f"{where}: missing field 'content'"))
        elif not isinstance(msg["content"], str):
            problems.append((f"{where}.content", f"{where}: content must be text, got {_type_name(msg['content'])}"))
        elif not msg["content"].strip() and msg["role"] != "system":
            problems.append((f"{where}.content", f"{where}: content is empty"))
    if len(problems) == before and not any(m["role"] == "assistant" for m in value):
        problems.append((column, f"field '{column}' has no assistant message: nothing to train on"))
    if len(problems) > before:
        return None
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _from_template(record: dict, template: str, problems: list) -> str | None:
    missing = [c for c in template_fields(template) if c not in record]
    for column in missing:
        problems.append((column, f"missing field '{column}' (used in the prompt template)"))
    if missing:
        return None
    return template.format_map({k: "" if v is None else str(v) for k, v in record.items()})


def _missing(column: str, role: str, shape: Shape) -> str:
    if shape.name == "mapped":
        return f"missing field '{column}' (mapped as the {role})"
    hint = shape_hint(shape.kind)
    return f"missing field '{column}' (expected the {shape.label} shape like the other records; {hint})"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else f"a {type(value).__name__}"
