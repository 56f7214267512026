"""The advice read from the session becomes the other pages' starting widget values."""
from __future__ import annotations

import pytest

from advisor import Answers, recommend
from advisor.handoff import estimate_fields
from estimator import EstimateRequest, estimate
from ui.handoff import offer, session_advice, widget_values


def test_offer_fills_empty_widgets_and_keeps_what_the_user_typed():
    state: dict = {}
    offer(state, {"est_model": "llama-3.1-8b", "est_gpu": None})
    assert state["est_model"] == "llama-3.1-8b" and "est_gpu" not in state
    state["est_model"] = "qwen2.5-7b"  # typed on the page
    offer(state, {"est_model": "llama-3.1-8b"})  # same advice again: the typed value stays
    assert state["est_model"] == "qwen2.5-7b"
    offer(state, {"est_model": "llama-3.1-70b"})  # the advice changed: the newer intent wins
    assert state["est_model"] == "llama-3.1-70b"


def test_the_estimator_widgets_show_the_recommended_figure():
    answers = Answers(needs=["output_format"], labeled_examples=3000, prompting_result="fails", gpu="L4")
    rec = recommend(answers)
    values = widget_values(EstimateRequest, "est_", estimate_fields(*session_advice(
        {"answers": answers, "recommendation": rec})))
    result = estimate(EstimateRequest(**{key.removeprefix("est_"): value for key, value in values.items()}))
    assert result.memory_gib["total"] == pytest.approx(rec.finetune.fit.total_gib, abs=0.01)


def test_widget_values_are_cast_to_the_field_types():
    from tuning.spec import JobSpec

    values = widget_values(JobSpec, "ft_", {"epochs": 2, "batch_size": 4.0, "learning_rate": 1e-4,
                                            "gradient_checkpointing": True, "method": "qlora", "max_steps": None})
    assert values == {"ft_epochs": 2.0, "ft_batch_size": 4, "ft_learning_rate": 1e-4,
                      "ft_gradient_checkpointing": True, "ft_method": "qlora"}
    assert isinstance(values["ft_epochs"], float) and isinstance(values["ft_batch_size"], int)


def test_answers_read_from_json_are_handed_over_too():
    answers, rec = session_advice({"answers": {"model": "llama-3.2-1b", "gpu": "L4", "gpu_count": 2}})
    assert answers == Answers(model="llama-3.2-1b", gpu="L4", gpu_count=2) and rec is None
    assert session_advice({"answers": {"labeled_examples": -1}}) == (None, None)  # nothing usable
    assert session_advice({}) == (None, None)
