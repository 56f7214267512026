"""Worked scenarios as data files: answers + the expected recommendation + why. They test the
rules (tests/advisor/test_scenarios.py) and double as examples on the page. Besides the approach,
hybrid and recipe, a scenario may check the plan (sharding, sequence length, distillation, a
DPO stage), what is ruled out, the headline, warnings, the next steps' commands and what the
reasons say."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from advisor.answers import Answers
from advisor.recommendation import Recommendation
from common.vocabulary import Approach, Recipe, Sharding

SCENARIO_DIR = Path(__file__).parent


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary: Approach
    combine_with: list[str] = Field(default_factory=list)
    recipe: Recipe | None = None
    then_dpo: bool = False
    distilled: bool = False
    sharding: Sharding | None = Field(None, description="The fine-tuning plan's sharding.")
    seq_len: int | None = Field(None, description="The sequence length the plan (or serving) is sized at.")
    ruled_out: list[str] = Field(default_factory=list, description="Approaches that must be ruled out.")
    warning_contains: list[str] = Field(default_factory=list, description="Substrings some warning must contain.")
    headline_contains: list[str] = Field(default_factory=list)
    commands_contain: list[str] = Field(
        default_factory=list, description="Substrings some next-step command must contain."
    )
    commands_exclude: list[str] = Field(
        default_factory=list, description="Substrings no next-step command may contain."
    )
    why_excludes: list[str] = Field(default_factory=list, description="Rules that must not be listed under Why.")
    text_contains: list[str] = Field(default_factory=list, description="Substrings the advice text must contain.")
    text_excludes: list[str] = Field(default_factory=list, description="Substrings absent from the whole advice text.")


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    why: str
    checks: str = Field("", description="What this scenario checks, for the README's table.")
    answers: Answers
    expect: Expected

    def failures(self, rec: Recommendation) -> list[str]:
        """What the recommendation gets wrong against this scenario (empty: it passes)."""
        e, out = self.expect, []
        got = (rec.primary, rec.combine_with, rec.recipe, rec.then_dpo, rec.distill is not None)
        want = (e.primary, e.combine_with, e.recipe, e.then_dpo, e.distilled)
        if got != want:
            out.append(f"got {rec.label()}, want {want}; scores {rec.scores}")
        plan = rec.finetune
        if e.sharding is not None and (plan is None or plan.sharding != e.sharding):
            out.append(f"sharding {plan.sharding if plan else None}, want {e.sharding}")
        sized = plan.seq_len if plan is not None else rec.serving.seq_len if rec.serving else None
        if e.seq_len is not None and sized != e.seq_len:
            out.append(f"sequence length {sized}, want {e.seq_len}")
        out += [f"{k} not ruled out" for k in e.ruled_out if k not in rec.ruled_out]
        out += [f"headline {rec.headline!r} lacks {s!r}" for s in e.headline_contains if s not in rec.headline]
        out += [f"no warning contains {s!r}" for s in e.warning_contains
                if not any(s.lower() in w.lower() for w in rec.warnings)]
        commands = [s.command for s in rec.next_steps if s.command]
        out += [f"no command contains {s!r}" for s in e.commands_contain if not any(s in c for c in commands)]
        out += [f"a command contains {s!r}" for s in e.commands_exclude if any(s in c for c in commands)]
        why = {r.rule for r in rec.reasons if r.supports}
        out += [f"{r} is listed under Why" for r in e.why_excludes if r in why]
        text = advice_text(rec)
        out += [f"the advice never says {s!r}" for s in e.text_contains if s not in text]
        out += [f"the advice says {s!r}" for s in e.text_excludes if s in text]
        return out


def advice_text(rec: Recommendation) -> str:
    """Everything a reader sees of the advice, as one string (headline, reasons, warnings, steps)."""
    parts = [rec.headline, *rec.warnings, *(r.text for r in rec.reasons),
             *(f"{s.title} {s.detail} {s.command or ''}" for s in rec.next_steps)]
    return "\n".join(parts)


def load_scenarios() -> list[Scenario]:
    """Every scenario file, sorted by name."""
    return [
        Scenario.model_validate(json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(SCENARIO_DIR.glob("*.json"))
    ]
