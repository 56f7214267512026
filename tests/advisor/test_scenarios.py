"""Every scenario file: the recommendation matches what the scenario expects, and why."""
import pytest

from advisor import recommend
from advisor.recommendation import APPROACH_LABELS
from advisor.scenarios import load_scenarios

SCENARIOS = load_scenarios()


def test_at_least_15_scenarios_cover_every_approach_and_the_hybrid_and_dpo():
    assert len(SCENARIOS) >= 15
    assert {s.expect.primary for s in SCENARIOS} == set(APPROACH_LABELS)
    assert any(s.expect.combine_with == ["rag"] for s in SCENARIOS)
    assert any(s.expect.recipe == "dpo" for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario):
    rec = recommend(scenario.answers)
    got = (rec.primary, rec.combine_with, rec.recipe)
    want = (scenario.expect.primary, scenario.expect.combine_with, scenario.expect.recipe)
    assert got == want, f"{scenario.name}: {scenario.why}\nscores: {rec.scores}"
    for needle in scenario.expect.warning_contains:
        assert any(needle.lower() in w.lower() for w in rec.warnings), (needle, rec.warnings)
    assert scenario.why
