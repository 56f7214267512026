"""Each rule is a small named unit that cites a readable source and its claim; tested one by one."""
import re

import pytest

from advisor import Answers
from advisor.rules import APPROACHES, FINETUNE, RULES
from advisor.scenarios import load_scenarios
from advisor.sources import load_sources

BY_NAME = {r.name: r for r in RULES}
SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt|seeds/")


def test_rule_names_are_unique():
    assert len(BY_NAME) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_cites_a_known_source_and_states_its_claim(rule):
    sources = load_sources()
    assert rule.source in sources and len(sources[rule.source].title) > 10
    assert 20 < len(rule.claim) < 200 and rule.claim.endswith(".")
    assert (rule.correction is None) == (rule.correction_source is None)
    if rule.correction_source:
        assert rule.correction_source in sources
    for text in (rule.claim, rule.correction or ""):
        assert not SEED_FILE.search(text)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_fires_in_some_scenario_and_names_real_answers(rule):
    fired = [out for s in load_scenarios() if (out := rule.apply(s.answers)) is not None]
    assert fired, f"{rule.name} never fires in the scenarios"
    for out in fired:
        assert set(out.deltas) <= set(APPROACHES) and set(out.rules_out) <= set(APPROACHES)
        assert out.answers and set(out.answers) <= set(Answers.model_fields)
        assert out.text


def test_every_source_in_the_catalog_is_cited_by_some_scenario():
    from advisor import recommend

    cited = {s.file for sc in load_scenarios() for s in recommend(sc.answers).sources}
    assert cited == set(load_sources())


def test_no_claim_copies_a_seed_sentence():
    """Claims are in our own words: no run of 9 words from a seed text (checked where the seed
    texts are at hand, the project workspace; a clone has none)."""
    from pathlib import Path

    seeds = next((p / "shared" / "seeds" for p in Path(__file__).resolve().parents
                  if (p / "shared" / "seeds").is_dir()), None)
    if seeds is None:
        pytest.skip("the seed texts live in the project workspace, not in the repository")

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower())

    seed_text = " ".join(" ".join(words(p.read_text())) for p in seeds.glob("*.txt"))
    for r in RULES:
        w = words(r.claim)
        runs = [" ".join(w[i:i + 9]) for i in range(max(0, len(w) - 8))]
        assert not [run for run in runs if run in seed_text], r.name


def _out(name: str, **answers):
    return BY_NAME[name].apply(Answers(**answers))


def _delta(name: str, **answers) -> dict:
    out = _out(name, **answers)
    return {} if out is None else out.deltas


def test_fresh_facts_favour_rag_and_daily_more_than_yearly():
    assert _delta("rag_for_changing_facts", knowledge_update="daily")["rag"] > \
        _delta("rag_for_changing_facts", knowledge_update="yearly")["rag"] > 0
    assert _delta("rag_for_changing_facts") == {}


def test_a_fresh_facts_need_decides_even_when_the_knowledge_never_changes():
    out = _out("rag_for_changing_facts", needs=["fresh_facts"], knowledge_update="never")
    assert out.deltas["rag"] == _delta("rag_for_changing_facts", knowledge_update="weekly")["rag"]
    assert out.deltas["prompting"] < 0 and "never" not in out.text and "knowledge_update" not in out.answers


def test_behaviour_needs_favour_finetuning():
    d = _delta("finetune_internalises_behaviour", needs=["tone_style", "output_format"])
    assert d["lora"] == d["qlora"] == d["full_finetune"] > 0


def test_knowledge_only_is_the_antipattern():
    assert _delta("facts_are_not_finetuned", needs=["private_knowledge"])["lora"] < 0
    assert _delta("facts_are_not_finetuned", needs=["private_knowledge", "tone_style"]) == {}


@pytest.mark.parametrize("n,sign", [(40, -1), (500, 1), (5000, 1)])
def test_example_counts(n, sign):
    assert sign * _delta("examples_needed", labeled_examples=n)["lora"] > 0


def test_no_demonstrations_rule_fine_tuning_out():
    out = _out("examples_needed", needs=["tone_style"])
    assert out.rules_out == list(FINETUNE) and "not possible yet" in out.warnings[0]


def test_pairs_are_not_examples():
    """400 pairs do not count as SFT data; 3,000 pairs on an instruct model are DPO's data."""
    assert _out("examples_needed", needs=["alignment"], preference_pairs=3000).rules_out == list(FINETUNE)
    assert _out("examples_needed", needs=["alignment"], preference_pairs=3000, model="llama-3.1-8b-instruct") is None
    few = _out("dpo_for_preference_pairs", needs=["alignment"], preference_pairs=400, model="llama-3.1-8b-instruct")
    assert few.deltas == {} and "at least 500" in few.warnings[0] and "training examples" not in few.text


def test_dpo_on_pairs_alone_needs_an_instruct_model():
    base = _out("dpo_for_preference_pairs", needs=["alignment"], preference_pairs=3000, model="llama-3.1-8b")
    assert base.deltas == {} and "llama-3.1-8b-instruct" in base.warnings[0]
    instruct = _out("dpo_for_preference_pairs", needs=["alignment"], preference_pairs=3000,
                    model="llama-3.1-8b-instruct")
    assert instruct.deltas["lora"] > 0 and not instruct.warnings


def test_pairs_do_nothing_for_a_cost_or_knowledge_need():
    assert _delta("dpo_for_preference_pairs", needs=["private_knowledge"], preference_pairs=3000) == {}


def test_too_few_examples_warn_and_prefer_prompting():
    out = _out("examples_needed", labeled_examples=40)
    assert out.deltas["prompting"] > 0 and "too few" in out.warnings[0]


def test_forgetting_penalises_full_finetuning_with_mitigations():
    out = _out("catastrophic_forgetting", keep_general_skills=True, labeled_examples=2000)
    assert out.deltas["full_finetune"] < 0 < out.deltas["lora"]
    assert "1-3 epochs" in out.warnings[0] and "general-purpose" in out.warnings[0]


def test_lora_before_full_says_memory_not_compute():
    out = _out("lora_before_full", labeled_examples=2000)
    assert out.deltas["full_finetune"] < 0
    assert "memory" in out.text and "cheaper" not in out.text  # its correction: ~2/3 of the compute


def test_deep_adaptation_needs_specialised_reasoning_not_a_budget_threshold():
    base = dict(domain_coverage="proprietary", labeled_examples=20000)
    assert (
        _delta("full_for_deep_adaptation", needs=["specialized_reasoning"], budget_usd=1, **base)["full_finetune"] > 0
    )
    assert _delta("full_for_deep_adaptation", needs=["task_skill", "output_format"], **base) == {}


def test_high_volume_favours_a_smaller_finetuned_model():
    assert _delta("smaller_model_for_cost", queries_per_day=500_000)["lora"] > \
        _delta("smaller_model_for_cost", queries_per_day=20_000)["lora"] > 0


def test_distillation_fires_for_a_working_prompt_that_costs_too_much():
    out = _out("distil_for_cost", needs=["cost_latency"], prompting_result="good_enough",
               queries_per_day=2_000_000, model="llama-3.1-70b")
    assert out.deltas["lora"] > 0 and "llama-3.1-8b" in out.text and "10,000 real queries" in out.text
    assert "7 minutes of your traffic" in out.text  # 10,000 / 2,000,000 a day
    assert (
        _out("distil_for_cost", needs=["cost_latency"], prompting_result="inconsistent", model="llama-3.1-70b") is None
    )
    assert _out("distil_for_cost", needs=["cost_latency"], prompting_result="good_enough", model="llama-3.2-1b") is None


def test_on_prem_says_self_hosted():
    out = _out("on_prem_self_hosted", data_must_stay_on_prem=True)
    assert "self-hosted open-weight" in out.text and out.warnings


def test_source_corrections_are_stated():
    """The 70B-on-24GB claim, attention-only LoRA, QLoRA's quality cost, the price list and
    the pairs-as-examples count are corrected, each on a named source."""
    qlora = BY_NAME["qlora_when_memory_forces_it"]
    assert (
        "24 GB" in qlora.correction and "does not hold" in qlora.correction and qlora.correction_source == "qlora-paper"
    )
    assert "all linear layers" in BY_NAME["lora_all_linear_targets"].correction
    assert "1e-4" in BY_NAME["catastrophic_forgetting"].correction
    assert "$5-20K" in BY_NAME["full_for_deep_adaptation"].correction
    assert "500" in BY_NAME["dpo_for_preference_pairs"].correction


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

    def seven_b(method, gpus):  # 10,000 examples of 512 tokens, 2 epochs, on H100s
        return estimate(EstimateRequest(
            model="mistral-7b", method=method, gpu="H100 SXM", train_tokens=10_000 * 512, epochs=2,
            seq_len=512, gradient_checkpointing=True, gradient_accumulation=8, gpus=gpus,
            sharding="fsdp" if gpus > 1 else "none"))

    full, lora_run = seven_b("full", 2), seven_b("lora", 1)
    assert round(full.cost_usd, 2) == 1.24 and round(full.time_hours * 2, 1) == 0.4
    assert round(lora_run.cost_usd, 2) == 0.94 and round(lora_run.time_hours, 1) == 0.3
    assert "~$1.24" in BY_NAME["full_for_deep_adaptation"].correction
