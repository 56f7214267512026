"""Worked scenarios as data files: answers + the expected recommendation + why. They test the
rules (tests/advisor/test_scenarios.py) and double as examples on the page."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from advisor.answers import Answers
from advisor.recommendation import Approach, Recipe

SCENARIO_DIR = Path(__file__).parent


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    primary: Approach
    combine_with: list[str] = Field(default_factory=list)
    recipe: Recipe | None = None
    warning_contains: list[str] = Field(default_factory=list, description="Substrings some warning must contain.")


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    why: str
    answers: Answers
    expect: Expected


def load_scenarios() -> list[Scenario]:
    """Every scenario file, sorted by name."""
    return [
        Scenario.model_validate(json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(SCENARIO_DIR.glob("*.json"))
    ]
