"""recommend(): scores for every approach, reasons with readable sources, what would change it
(really re-run), next steps with exact commands that run, the estimator's figures. Its speed is
bench/bench_advisor.py's to measure."""

import pytest

from advisor import Answers, recommend
from advisor.decide import decide
from advisor.rules import APPROACHES
from advisor.whatif import candidate_changes


def test_scores_reasons_and_sources(hybrid_answers):
    rec = recommend(hybrid_answers)
    assert set(rec.scores) == set(APPROACHES)
    assert rec.scores["lora"] == max(rec.scores.values())
    assert rec.reasons and all(r.answers and r.source and r.source_title and r.claim for r in rec.reasons)
    assert rec.sources and all(s.title and s.claims for s in rec.sources)
    # The winner's supporting reasons come first, marked; the rest were weighed against.
    support = [r.supports for r in rec.reasons]
    assert support[0] and support == sorted(support, reverse=True) and not all(support)
    by_rule = {r.rule: r.supports for r in rec.reasons}
    assert by_rule["finetune_internalises_behaviour"] and by_rule["rag_for_changing_facts"]
    assert by_rule["lora_before_full"]  # lowered a rival (full fine-tuning), not the winner
    assert not by_rule["domain_coverage"]  # raised prompting only


def test_why_lists_only_reasons_for_the_recommendation():
    """A RAG advice does not list 'fine-tune for the behaviour'; LoRA does not list 'full
    fine-tuning can pay off'."""
    rag = recommend(Answers(needs=["tone_style", "private_knowledge"], labeled_examples=40,
                            prompting_result="inconsistent"))
    assert rag.primary == "rag"
    why = {r.rule for r in rag.reasons if r.supports}
    assert "hybrid_style_and_facts" not in why and "rag_for_private_docs" in why
    lora = recommend(Answers(needs=["specialized_reasoning"], domain_coverage="proprietary", labeled_examples=20000,
                             prompting_result="fails", keep_general_skills=False, model="llama-3.1-70b",
                             gpu="A100 80GB", gpu_count=2))
    assert lora.primary in ("lora", "qlora")
    assert "full_for_deep_adaptation" not in {r.rule for r in lora.reasons if r.supports}


def test_what_would_change_it_really_flips_it(hybrid_answers):
    rec = recommend(hybrid_answers)
    assert rec.what_would_change_it
    base = hybrid_answers.model_dump()
    for change in rec.what_would_change_it:
        again = recommend(Answers.model_validate({**base, change.field: change.value}), detail=False)
        assert again.label() == change.result != rec.label()
        assert change.field in change.text


def test_finetune_plan_has_memory_and_cost(hybrid_answers):
    plan = recommend(hybrid_answers).finetune
    assert plan.method == "lora" and plan.recipe == "sft" and plan.lora_targets == "all-linear"
    assert plan.fit.fits and plan.fit.gpu == "A100 80GB" and plan.sharding == "none"
    assert plan.fit.memory_gib["weights"] > 14  # 8B in bf16
    assert plan.fit.total_gib < 80 and plan.fit.cost_usd > 0 and plan.fit.time_hours > 0
    assert {f.method for f in plan.alternatives} == {"lora", "qlora", "full"}
    assert plan.gpu_table and plan.assumptions and plan.examples == 5000 and plan.data_kind == "examples"


def test_every_method_shards_over_several_gpus():
    """70B LoRA does not fit one A100 80GB as a copy but does with FSDP over 8: LoRA, not QLoRA."""
    a = Answers(needs=["specialized_reasoning", "output_format"], labeled_examples=5000, prompting_result="fails",
                domain_coverage="proprietary", model="llama-3.1-70b", gpu="A100 80GB", gpu_count=8)
    rec = recommend(a)
    fits = {f.method: f for f in rec.finetune.alternatives}
    assert rec.primary == "lora" and fits["lora"].sharding == "fsdp" and fits["lora"].fits
    assert fits["lora"].total_gib < 80 / 3
    assert "FSDP" in rec.headline
    sharded = next(r for r in rec.reasons if r.rule == "estimator_sharding")
    assert sharded.supports and sharded.source_title.startswith("You can now train a 70b")
    small = recommend(a.model_copy(update={"model": "llama-3.2-1b", "needs": ["output_format"]}))
    assert small.finetune.sharding == "none"  # a copy fits each GPU: DDP


def test_70b_qlora_does_not_fit_one_24gb_gpu():
    """The enterprise glossary says it does; the estimator says ~40+ GiB."""
    a = Answers(needs=["tone_style", "output_format"], labeled_examples=5000, prompting_result="fails",
                model="llama-3.1-70b", gpu="RTX 4090")
    rec = recommend(a)
    assert rec.primary == "qlora" and not rec.finetune.fit.fits
    assert rec.finetune.fit.total_gib > 35
    assert any("does not fit 1 x RTX 4090" in w for w in rec.warnings)
    assert rec.finetune.smaller_model == "llama-3.1-8b"  # a catalog model that does fit
    assert "does not fit" in rec.headline


def test_no_gpu_sizes_on_the_cheapest_rental():
    a = Answers(needs=["tone_style"], labeled_examples=3000, prompting_result="inconsistent")
    rec = recommend(a)
    assert rec.finetune.fit.rented and rec.finetune.fit.gpu and rec.finetune.fit.fits


def test_a_budget_rules_out_what_it_cannot_pay_for():
    base = dict(needs=["specialized_reasoning"], domain_coverage="proprietary", labeled_examples=50000,
                prompting_result="fails", model="llama-3.1-8b", gpu="H100 SXM", gpu_count=8)
    assert recommend(Answers(**base, budget_usd=200000), detail=False).primary == "full_finetune"
    tight = recommend(Answers(**base, budget_usd=1), detail=False)
    assert tight.primary not in ("lora", "qlora", "full_finetune")
    assert set(tight.ruled_out) == {"lora", "qlora", "full_finetune"}
    broke = recommend(Answers(needs=["tone_style"], labeled_examples=5000, prompting_result="inconsistent",
                              budget_usd=0))
    assert broke.primary == "prompting" and broke.finetune is None
    assert any("$0 budget" in w and "cents" in w for w in broke.warnings)


def test_sft_then_dpo_when_both_kinds_of_data():
    a = Answers(needs=["alignment"], labeled_examples=4000, preference_pairs=1500,
                prompting_result="inconsistent", gpu="H100 SXM")
    rec = recommend(a)
    assert rec.recipe == "sft" and rec.then_dpo and rec.label() == "lora (sft then dpo)"
    stage = rec.finetune.dpo_stage
    assert stage is not None and stage.method == "lora" and stage.fits and stage.cost_usd > 0
    dpo = next(s for s in rec.next_steps if "DPO" in s.title)
    assert "--data preferences.jsonl --method dpo" in dpo.command and "--model runs/sft-lora/merged" in dpo.command


def test_reports_say_pairs_for_dpo():
    a = Answers(needs=["alignment"], preference_pairs=3000, prompting_result="inconsistent",
                model="llama-3.1-8b-instruct", gpu="A100 80GB")
    rec = recommend(a)
    assert rec.recipe == "dpo" and rec.finetune.data_kind == "pairs" and rec.finetune.examples == 3000
    assert rec.finetune.learning_rate == 5e-6 and rec.finetune.batch_size == 2  # two sequences: one pair
    tune = next(s.command for s in rec.next_steps if s.command and " tune " in s.command)
    assert "--lr 5e-06 --batch-size 1 " in tune  # a DPO job's batch counts pairs
    assert any("3,000 pairs" in x for x in rec.assumptions)
    assert "training examples" not in " ".join(r.text for r in rec.reasons)


def test_distillation_sizes_the_student_on_the_labels():
    a = Answers(needs=["cost_latency"], prompting_result="good_enough", queries_per_day=2_000_000,
                model="llama-3.1-70b")
    rec = recommend(a)
    assert rec.distill.student == "llama-3.1-8b" and rec.distill.labels == 10_000
    assert rec.finetune.model == "llama-3.1-8b" and rec.finetune.data_kind == "labels"
    assert rec.serving.total_gib < 20  # the student is what gets served
    assert any("teacher-labels.jsonl" in (s.command or "") for s in rec.next_steps)


def test_sequence_length_is_capped_at_the_context():
    rec = recommend(Answers(needs=["tone_style"], labeled_examples=2000, prompting_result="fails",
                            model="gpt2", example_tokens=4096))
    assert any("context of 1,024 tokens" in w and "Chunk" in w for w in rec.warnings)
    assert rec.finetune.seq_len == 1024 and rec.serving.seq_len == 1024
    assert not any("context" in w for w in recommend(Answers(example_tokens=4096)).warnings)


@pytest.mark.parametrize("primary_answers,expected", [
    (dict(), ["ftadvisor estimate --model llama-3.1-8b --method inference"]),
    (dict(model="8b", needs=["tone_style"], labeled_examples=2000, prompting_result="fails"),
     ["ftadvisor tune --model 8b"]),
    (dict(needs=["private_knowledge"]), ["ftadvisor rag index --docs ./docs --store ./rag-store",
                                         "ftadvisor rag ask"]),
    (dict(needs=["alignment"], preference_pairs=3000, prompting_result="fails", gpu="H100 SXM",
          model="llama-3.1-8b-instruct"),
     ["ftadvisor data check preferences.jsonl", "--method dpo --dpo-base lora",
      "ftadvisor compare --data preferences.jsonl --completion-field chosen",
      "tune --model meta-llama/Llama-3.1-8B-Instruct"]),
    (dict(use_case="Text-to-SQL over our warehouse", needs=["specialized_reasoning"], labeled_examples=3000,
          prompting_result="fails", gpu="A100 80GB"),
     ["--docs ./schemas --model meta-llama/Llama-3.1-8B --gpu 'A100 80GB' --method lora",
      "--scorer sql-exec --sql-db-field db_name"]),
    (dict(needs=["output_format"], labeled_examples=3000, prompting_result="fails"),
     ["--model smollm2-135m-instruct", "--method auto", "--scorer json"]),
])
def test_next_steps_have_exact_commands(primary_answers, expected):
    rec = recommend(Answers(**primary_answers))
    commands = "\n".join(s.command or "" for s in rec.next_steps)
    for needle in expected:
        assert needle in commands
    assert all(s.command.startswith("ftadvisor ") for s in rec.next_steps if s.command)


def test_candidate_changes_cover_every_question_that_matters():
    fields = {f for f, _ in candidate_changes(Answers(gpu="T4", preference_pairs=10))}
    assert {"needs", "labeled_examples", "preference_pairs", "gpu", "gpu_count", "budget_usd",
            "queries_per_day", "prompting_result", "knowledge_update", "model"} <= fields


def test_every_scenarios_commands_parse_with_the_real_cli():
    """Flags drift: each next-step command must parse with `ftadvisor`'s own parser."""
    import shlex

    from advisor.scenarios import load_scenarios
    from cli.main import build_parser

    parser = build_parser()
    for s in load_scenarios():
        for step in recommend(s.answers).next_steps:
            if step.command:
                argv = shlex.split(step.command)
                assert argv[0] == "ftadvisor"
                parser.parse_args(argv[1:])  # SystemExit(2) on an unknown flag


def test_the_estimate_commands_reproduce_the_reported_memory(capsys):
    """For every scenario, the `ftadvisor estimate` next steps print the per-GPU totals the
    recommendation reports: the training plan's, and serving's."""
    import json
    import shlex

    from advisor.scenarios import load_scenarios
    from cli.main import main

    checked = 0
    for s in load_scenarios():
        rec = recommend(s.answers)
        for step in rec.next_steps:
            if not (step.command or "").startswith("ftadvisor estimate"):
                continue
            sized = rec.serving if "--method inference" in step.command else rec.finetune.fit
            assert main(shlex.split(step.command)[1:] + ["--json"]) == 0
            data = json.loads(capsys.readouterr().out)
            assert abs(data["memory_gib"]["total"] - sized.total_gib) < 0.01, (s.name, step.command)
            checked += 1
    assert checked >= 40


def test_random_answers_always_give_a_consistent_recommendation():
    """Seeded random questionnaires: never crash, the winner has the top score among what is
    not ruled out (or is the hybrid), fine-tuning always comes with its sizing, prompting/RAG
    never with a recipe, and the what-if label equals the full label."""
    import random
    from typing import get_args

    from advisor.answers import DomainCoverage, KnowledgeUpdate, Need, PromptingResult
    from advisor.rules import FINETUNE

    rng = random.Random(7)
    models = ["llama-3.2-1b", "qwen2.5-7b", "llama-3.1-8b", "llama-3.1-8b-instruct", "llama-3.1-70b",
              "mixtral-8x7b", "13b"]
    gpus = [None, "T4", "RTX 4090", "L4", "A100 80GB", "H100 SXM"]
    for _ in range(25):
        a = Answers(
            needs=rng.sample(get_args(Need), rng.randint(0, 4)),
            knowledge_update=rng.choice(get_args(KnowledgeUpdate)),
            citations_required=rng.random() < 0.3,
            labeled_examples=rng.choice([0, 30, 300, 3000, 30000]),
            preference_pairs=rng.choice([0, 0, 800, 5000]),
            prompting_result=rng.choice(get_args(PromptingResult)),
            domain_coverage=rng.choice(get_args(DomainCoverage)),
            requirements_stable=rng.random() < 0.8,
            model=rng.choice(models), gpu=rng.choice(gpus), gpu_count=rng.choice([1, 1, 2, 8]),
            budget_usd=rng.choice([None, 0, 50, 5000]), queries_per_day=rng.choice([0, 5000, 200000, 2000000]),
            data_must_stay_on_prem=rng.random() < 0.3, keep_general_skills=rng.random() < 0.4,
        )
        rec = recommend(a)
        assert rec.primary not in rec.ruled_out
        top = max(v for k, v in rec.scores.items() if k not in rec.ruled_out)
        if rec.primary in FINETUNE:
            assert rec.finetune is not None and rec.recipe in ("sft", "dpo")
            assert rec.scores[rec.primary] == top or "rag" in rec.combine_with
        else:
            assert rec.finetune is None and rec.recipe is None and not rec.combine_with
            assert rec.scores[rec.primary] == top
        assert rec.next_steps and rec.serving is not None
        assert decide(a).label() == rec.label()


def test_the_training_stack_decides_the_bytes_of_the_plan():
    """peft-trainer's prepare_model_for_kbit_training holds fp32 embeddings, lm_head and adapters;
    trl keeps them in 16-bit: the same QLoRA plan needs more memory, and its estimate says the stack."""
    from advisor import Answers, recommend

    base = dict(needs=["output_format"], labeled_examples=2000, prompting_result="fails", model="llama-3.1-8b",
                gpu="RTX 4090", gpu_count=1)
    trl, peft = (recommend(Answers(**base, stack=s)) for s in ("trl", "peft-trainer"))
    assert trl.finetune.method == peft.finetune.method
    assert peft.finetune.fit.total_gib > trl.finetune.fit.total_gib
    commands = " ".join(step.command or "" for step in peft.next_steps)
    assert "--stack peft-trainer" in commands and "--stack trl" in " ".join(s.command or "" for s in trl.next_steps)
