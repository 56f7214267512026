"""Each rule is a small named unit that cites a seed and its claim; tested one by one."""
import pytest

from advisor import Answers
from advisor.rules import APPROACHES, RULES
from advisor.rules import base
from advisor.scenarios import load_scenarios

SEEDS = {base.SEED_000, base.SEED_001, base.SEED_002, base.SEED_003, base.SEED_004}
BY_NAME = {r.name: r for r in RULES}


def test_rule_names_are_unique():
    assert len(BY_NAME) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_cites_a_seed_and_a_claim(rule):
    assert rule.source in SEEDS
    assert len(rule.claim) > 20
    assert rule.apply.__doc__ is None or isinstance(rule.apply.__doc__, str)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_fires_in_some_scenario_and_names_real_answers(rule):
    fired = [out for s in load_scenarios() if (out := rule.apply(s.answers)) is not None]
    assert fired, f"{rule.name} never fires in the scenarios"
    for out in fired:
        assert set(out.deltas) <= set(APPROACHES)
        assert out.answers and set(out.answers) <= set(Answers.model_fields)
        assert out.text


def _delta(name: str, **answers) -> dict:
    out = BY_NAME[name].apply(Answers(**answers))
    return {} if out is None else out.deltas


def test_fresh_facts_favour_rag_and_daily_more_than_yearly():
    assert _delta("rag_for_changing_facts", knowledge_update="daily")["rag"] > \
        _delta("rag_for_changing_facts", knowledge_update="yearly")["rag"] > 0
    assert _delta("rag_for_changing_facts") == {}


def test_behaviour_needs_favour_finetuning():
    d = _delta("finetune_internalises_behaviour", needs=["tone_style", "output_format"])
    assert d["lora"] == d["qlora"] == d["full_finetune"] > 0


def test_knowledge_only_is_the_antipattern():
    assert _delta("facts_are_not_finetuned", needs=["private_knowledge"])["lora"] < 0
    assert _delta("facts_are_not_finetuned", needs=["private_knowledge", "tone_style"]) == {}


@pytest.mark.parametrize("n,sign", [(0, -1), (40, -1), (500, 1), (5000, 1)])
def test_example_counts(n, sign):
    assert sign * _delta("examples_needed", labeled_examples=n)["lora"] > 0


def test_too_few_examples_warn_and_prefer_prompting():
    out = BY_NAME["examples_needed"].apply(Answers(labeled_examples=40))
    assert out.deltas["prompting"] > 0 and "too few" in out.warnings[0]


def test_forgetting_penalises_full_finetuning_with_mitigations():
    out = BY_NAME["catastrophic_forgetting"].apply(Answers(keep_general_skills=True, labeled_examples=2000))
    assert out.deltas["full_finetune"] < 0 < out.deltas["lora"]
    assert "1-3 epochs" in out.warnings[0] and "general-purpose" in out.warnings[0]


def test_lora_before_full():
    assert _delta("lora_before_full", labeled_examples=2000)["full_finetune"] < 0


def test_high_volume_favours_a_smaller_finetuned_model():
    assert _delta("smaller_model_for_cost", queries_per_day=500_000)["lora"] > \
        _delta("smaller_model_for_cost", queries_per_day=20_000)["lora"] > 0


def test_on_prem_says_self_hosted():
    out = BY_NAME["on_prem_self_hosted"].apply(Answers(data_must_stay_on_prem=True))
    assert "self-hosted open-weight" in out.text and out.warnings


def test_seed_corrections_are_stated():
    """Seed 004's 70B-on-24GB claim and seed 003's attention-only LoRA are corrected."""
    assert "24GB" in BY_NAME["qlora_trades_quality_for_memory"].correction
    assert "does not" in BY_NAME["qlora_trades_quality_for_memory"].correction
    assert "all linear layers" in BY_NAME["lora_all_linear_targets"].correction
    assert "1e-4" in BY_NAME["catastrophic_forgetting"].correction


def test_corrections_agree_with_the_estimator():
    """The numbers the corrections quote are the estimator's."""
    from estimator import EstimateRequest, estimate, load_model_spec

    spec = load_model_spec("llama-3.1-8b")
    lora = spec.lora_params(16, "all-linear")
    assert lora == 41_943_040 and f"{lora / spec.param_count():.2%}" == "0.52%"
    assert "41,943,040" in BY_NAME["lora_all_linear_targets"].correction

    def flops(method):
        return estimate(EstimateRequest(model="llama-3.1-8b", method=method, seq_len=512)).flops_per_token

    assert 0.6 < flops("lora") / flops("full") < 0.72  # "~2/3 of the compute"
    qlora_70b = estimate(EstimateRequest(model="llama-3.1-70b", method="qlora", quant="nf4",
                                         seq_len=512, gradient_checkpointing=True))
    assert qlora_70b.memory_gib["weights"] > 33 and not qlora_70b.fits["RTX 4090"]
