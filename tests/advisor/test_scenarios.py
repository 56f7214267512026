"""Every scenario file: the recommendation matches what the scenario expects, and why."""
import pytest

from advisor import recommend
from advisor.scenarios import Expected, Scenario, load_scenarios
from common.vocabulary import APPROACHES

SCENARIOS = load_scenarios()


def test_scenarios_cover_every_approach_the_hybrid_dpo_distillation_and_sharding():
    assert len(SCENARIOS) >= 35
    assert {s.expect.primary for s in SCENARIOS} == set(APPROACHES)
    assert any(s.expect.combine_with == ["rag"] for s in SCENARIOS)
    assert any(s.expect.recipe == "dpo" for s in SCENARIOS)
    assert any(s.expect.then_dpo for s in SCENARIOS) and any(s.expect.distilled for s in SCENARIOS)
    assert any(s.expect.sharding == "fsdp" for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario):
    assert scenario.why and scenario.checks
    failures = scenario.failures(recommend(scenario.answers))
    assert not failures, f"{scenario.name}: {scenario.why}\n" + "\n".join(failures)


def test_a_scenario_can_fail():
    """The checker reports what differs (so a passing scenario means something)."""
    s = next(x for x in SCENARIOS if x.name == "zero_budget_no_gpu")
    wrong = Scenario(name="x", why="x", checks="x", answers=s.answers,
                     expect=Expected(primary="lora", recipe="sft", sharding="fsdp", ruled_out=["rag"],
                                     commands_contain=["ftadvisor tune"], text_excludes=["budget"]))
    failures = wrong.failures(recommend(s.answers))
    assert len(failures) == 5
