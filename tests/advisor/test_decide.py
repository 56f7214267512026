"""advisor.decide: what is ruled out cannot win, and a reason supports the recommendation only
when it argues for it."""
import pytest

from advisor import Answers
from advisor.decide import decide, supports
from advisor.recommendation import Reason


def _reason(effect, rules_out=(), rule="x"):
    return Reason(rule=rule, text="t", answers=["needs"], source="estimator", claim="c", effect=effect,
                  rules_out=list(rules_out))


FT = {"lora": 1.0, "qlora": 1.0, "full_finetune": 1.0}


@pytest.mark.parametrize("effect,winners,expected", [
    ({"rag": 0.5, **{k: 0.5 for k in FT}}, {"rag"}, False),  # the hybrid rule does not argue for RAG alone
    ({"rag": 0.5, **{k: 0.5 for k in FT}}, {"lora", "rag"}, True),
    (FT, {"lora"}, True),  # every fine-tuning method alike: the winner's family
    ({"full_finetune": 3.0}, {"lora"}, False),  # "full fine-tuning can pay off" is not for LoRA
    ({"full_finetune": -1.5}, {"lora"}, True),  # lowered a rival only
    ({"qlora": -0.5}, {"qlora"}, False),  # lowered the winner
    ({"prompting": 4.0, **{k: -1.0 for k in FT}}, {"lora"}, False),
    ({"lora": 1.5, "qlora": 1.5, "full_finetune": 1.5, "prompting": 0.5}, {"lora"}, True),
])
def test_supports(effect, winners, expected):
    assert supports(_reason(effect), winners, finetuning=bool(winners & set(FT))) is expected


def test_ruling_out_a_rival_supports_and_a_note_does_not():
    assert supports(_reason({}, ["lora"]), {"prompting"}, False)
    assert not supports(_reason({}, ["lora"]), {"lora"}, True)
    assert not supports(_reason({}), {"prompting"}, False)
    assert supports(_reason({}, rule="lora_all_linear_targets"), {"lora"}, True)


def test_what_is_ruled_out_cannot_win_whatever_its_score():
    d = decide(Answers(needs=["tone_style", "output_format", "specialized_reasoning"], labeled_examples=20000,
                       prompting_result="fails", domain_coverage="proprietary", budget_usd=0))
    assert set(d.ruled_out) == {"lora", "qlora", "full_finetune"}
    assert d.scores["lora"] > d.scores[d.primary] and d.primary == "prompting"
    assert all(r.supports for r in d.reasons if r.rule == "estimator_budget")


def test_without_explaining_the_label_is_the_same():
    a = Answers(needs=["tone_style", "fresh_facts"], knowledge_update="daily", labeled_examples=5000,
                prompting_result="inconsistent", gpu="A100 80GB")
    quick, full = decide(a, explain=False), decide(a)
    assert quick.label() == full.label() == "lora + rag (sft)" and not quick.reasons and full.reasons
