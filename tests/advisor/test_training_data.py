"""advisor.training_data and advisor.distill: which recipe runs on which data."""
from advisor import Answers
from advisor.distill import DISTILL_LABELS, distillation
from advisor.training_data import choose_recipe, data_kind, has_training_data, sft_then_dpo, training_count

ALIGN = dict(needs=["alignment"], prompting_result="inconsistent")


def test_demonstrations_and_pairs_give_sft_then_dpo():
    a = Answers(**ALIGN, labeled_examples=4000, preference_pairs=1500)
    assert choose_recipe(a) == "sft" and sft_then_dpo(a) and training_count(a, "sft") == 4000


def test_pairs_alone_give_dpo_only_on_an_instruct_model_with_500_pairs():
    instruct = Answers(**ALIGN, preference_pairs=3000, model="llama-3.1-8b-instruct")
    assert choose_recipe(instruct) == "dpo" and training_count(instruct, "dpo") == 3000
    assert data_kind(instruct, "dpo") == "pairs"
    assert not has_training_data(Answers(**ALIGN, preference_pairs=3000, model="llama-3.1-8b"))
    assert not has_training_data(Answers(**ALIGN, preference_pairs=499, model="llama-3.1-8b-instruct"))


def test_pairs_do_not_make_dpo_for_a_cost_need():
    a = Answers(needs=["cost_latency"], preference_pairs=3000, model="llama-3.1-8b-instruct")
    assert choose_recipe(a) == "sft" and not has_training_data(a)


def test_distillation_labels_traffic():
    a = Answers(needs=["cost_latency"], prompting_result="good_enough", queries_per_day=1_000_000,
                model="llama-3.1-70b")
    plan = distillation(a)
    assert (plan.teacher, plan.student, plan.labels) == ("llama-3.1-70b", "llama-3.1-8b", DISTILL_LABELS)
    assert plan.traffic_hours == 0.24  # 10,000 of 1,000,000 a day
    assert data_kind(a, "sft") == "labels" and training_count(a, "sft") == DISTILL_LABELS
    assert distillation(a.model_copy(update={"labeled_examples": 50_000})).labels == 50_000
    assert distillation(a.model_copy(update={"prompting_result": "fails"})) is None
    assert distillation(a.model_copy(update={"requirements_stable": False})) is None
