"""The rule unit: a small named function that reads `Answers` and returns an `Outcome` (score
changes per approach, the sentence that explains them, the answers that drove them, and what it
makes impossible) or None when it does not apply. Each rule names its source (an id of
advisor/sources.json) and the claim it takes from it in our own words; where a source is wrong,
the rule says what is right and on whose authority."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from advisor.answers import Answers
from common.vocabulary import APPROACHES, FINETUNE_APPROACHES

FINETUNE = FINETUNE_APPROACHES


@dataclass
class Outcome:
    """What one rule says about one set of answers."""

    text: str
    answers: list[str]
    deltas: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rules_out: list[str] = field(default_factory=list)  # approaches that cannot be used at all


@dataclass(frozen=True)
class Rule:
    name: str
    source: str  # id in advisor/sources.json
    claim: str  # what the rule takes from the source, in our words
    apply: Callable[[Answers], Outcome | None]
    correction: str | None = None  # where a source is wrong and what is right
    correction_source: str | None = None  # id of the source that says what is right
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


def rule(name: str, source: str, claim: str, correction: str | None = None,
         correction_source: str | None = None, finetune_only: bool = False):
    """Register `fn` as a rule. Order of registration is the order reasons are listed."""

    def wrap(fn: Callable[[Answers], Outcome | None]) -> Callable[[Answers], Outcome | None]:
        RULES.append(Rule(name=name, source=source, claim=claim, apply=fn, correction=correction,
                          correction_source=correction_source, finetune_only=finetune_only))
        return fn

    return wrap


__all__ = ["APPROACHES", "FINETUNE", "RULES", "Outcome", "Rule", "finetune", "merge", "rule"]
