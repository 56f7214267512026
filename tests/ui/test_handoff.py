"""The advisor's answers and recommendation become the other pages' starting values."""
from __future__ import annotations

import pytest

from advisor import Answers, recommend
from advisor.scenarios import load_scenarios
from estimator import EstimateRequest, estimate
from ui.handoff import estimator_values, offer, trainable_model, widget_values

SCENARIOS = {s.name: s for s in load_scenarios()}


def _state(answers: Answers) -> dict:
    return {"answers": answers, "recommendation": recommend(answers)}


def test_offer_fills_empty_widgets_and_keeps_what_the_user_typed():
    state: dict = {}
    offer(state, {"est_model": "llama-3.1-8b", "est_gpu": None})
    assert state["est_model"] == "llama-3.1-8b" and "est_gpu" not in state
    state["est_model"] = "qwen2.5-7b"  # typed on the page
    offer(state, {"est_model": "llama-3.1-8b"})  # same advice again: the typed value stays
    assert state["est_model"] == "qwen2.5-7b"
    offer(state, {"est_model": "llama-3.1-70b"})  # the advice changed: the newer intent wins
    assert state["est_model"] == "llama-3.1-70b"


def test_no_advice_offers_nothing():
    assert estimator_values({}, "est_") == {}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_estimator_starts_from_the_recommended_setup_and_shows_its_figure(name):
    state = _state(SCENARIOS[name].answers)
    rec = state["recommendation"]
    values = estimator_values(state, "est_")
    result = estimate(EstimateRequest(**{k.removeprefix("est_"): v for k, v in values.items()}))
    sized = rec.finetune.fit if rec.finetune is not None else rec.serving
    assert values["est_method"] == sized.method
    assert values.get("est_gpu") == sized.gpu and values["est_gpus"] == sized.gpus
    assert result.memory_gib["total"] == pytest.approx(sized.total_gib, abs=0.01)


def test_widget_values_are_cast_to_the_field_types():
    from tuning.spec import JobSpec

    values = widget_values(JobSpec, "ft_", {"epochs": 2, "batch_size": 4.0, "learning_rate": 1e-4,
                                            "gradient_checkpointing": True, "method": "qlora", "max_steps": None})
    assert values == {"ft_epochs": 2.0, "ft_batch_size": 4, "ft_learning_rate": 1e-4,
                      "ft_gradient_checkpointing": True, "ft_method": "qlora"}
    assert isinstance(values["ft_epochs"], float) and isinstance(values["ft_batch_size"], int)


def test_a_catalog_name_becomes_the_hub_id_to_train_and_a_bare_size_names_none():
    assert trainable_model("llama-3.1-8b") == "meta-llama/Llama-3.1-8B"
    assert trainable_model("Qwen/Qwen2.5-14B") == "Qwen/Qwen2.5-14B"
    assert trainable_model("8b") is None
    assert trainable_model("no-such-model") is None


def test_answers_read_from_json_are_handed_over_too():
    values = estimator_values({"answers": {"model": "llama-3.2-1b", "gpu": "L4", "gpu_count": 2}}, "est_")
    assert values == {"est_model": "llama-3.2-1b", "est_gpu": "L4", "est_gpus": 2}
    assert estimator_values({"answers": {"labeled_examples": -1}}, "est_") == {}
