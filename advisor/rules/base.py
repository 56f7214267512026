"""The rule unit: a small named function that reads `Answers` and returns an `Outcome` (score
changes per approach, the sentence that explains them, the answers that drove them) or None
when it does not apply. Each rule cites the seed file and the claim it comes from, and says so
when it corrects the seed."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from advisor.answers import Answers

APPROACHES = ("prompting", "rag", "lora", "qlora", "full_finetune")
FINETUNE = ("lora", "qlora", "full_finetune")

# The seed files the rules cite (in ../shared/seeds/ of the project workspace).
SEED_000 = "000_1f275bc8306357c2.txt"
SEED_001 = "001_0ffb80dee5154411.txt"
SEED_002 = "002_e90dd656f1701a5c.txt"
SEED_003 = "003_7d5cb55e0ef0b6fe.txt"
SEED_004 = "004_fa1594c0ef5c2c6c.txt"


@dataclass
class Outcome:
    """What one rule says about one set of answers."""

    text: str
    answers: list[str]
    deltas: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    name: str
    source: str  # seed file name
    claim: str  # the seed's words the rule rests on
    apply: Callable[[Answers], Outcome | None]
    correction: str | None = None  # where the seed is wrong and what is right
    finetune_only: bool = False  # its reason and warnings matter only when fine-tuning wins


def finetune(delta: float) -> dict[str, float]:
    """The same score change for every fine-tuning method."""
    return {a: delta for a in FINETUNE}


def merge(*parts: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        for k, v in part.items():
            out[k] = out.get(k, 0.0) + v
    return out


RULES: list[Rule] = []


def rule(
    name: str, source: str, claim: str, correction: str | None = None, finetune_only: bool = False
):
    """Register `fn` as a rule. Order of registration is the order reasons are listed."""

    def wrap(fn: Callable[[Answers], Outcome | None]) -> Callable[[Answers], Outcome | None]:
        RULES.append(Rule(name=name, source=source, claim=claim, apply=fn, correction=correction,
                          finetune_only=finetune_only))
        return fn

    return wrap
