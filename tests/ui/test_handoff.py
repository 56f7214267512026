"""The advisor's answers and recommendation become the other pages' starting values."""
from __future__ import annotations

import pytest

from advisor import Answers, recommend
from advisor.scenarios import load_scenarios
from estimator import EstimateRequest, estimate
from ui.handoff import estimator_values, offer, trainable_model, training_values

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
    assert estimator_values({}, "est_") == {} and training_values({}, "ft_") == {}


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


def test_training_pages_get_a_hub_id_and_the_recommended_method():
    state = _state(SCENARIOS["on_prem_qlora_consumer_gpu"].answers)
    assert training_values(state, "ft_") == {"ft_model": "Qwen/Qwen2.5-14B", "ft_method": "qlora"}
    # The Compare page trains LoRA or QLoRA only: a full fine-tuning advice leaves its method alone.
    state = _state(SCENARIOS["huge_budget_full_finetune"].answers)
    assert training_values(state, "cmp_", methods=("lora", "qlora")) == {"cmp_model": "meta-llama/Llama-3.1-8B"}


def test_a_bare_size_names_no_weights_to_train():
    assert trainable_model("8b") is None
    assert trainable_model("llama-3.1-8b") == "meta-llama/Llama-3.1-8B"
    assert training_values(_state(Answers(model="8b")), "ft_") == {}
