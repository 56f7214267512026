"""The one hand-off: the advice as estimate, job and comparison fields, and as the commands the
advisor suggests, which the real `ftadvisor` parses back to the same values."""
from __future__ import annotations

import shlex

import pytest

from advisor import Answers, recommend
from advisor.catalog import runnable_model
from advisor.handoff import (
    command,
    compare_fields,
    dpo_stage_fields,
    estimate_fields,
    job_fields,
    serving_fields,
    trainable_model,
    tune_fields,
)
from advisor.scenarios import load_scenarios
from estimator import EstimateRequest, estimate

SCENARIOS = {s.name: s for s in load_scenarios()}
FINETUNES = sorted(name for name, s in SCENARIOS.items() if recommend(s.answers).finetune is not None)
PLACEHOLDER_MODEL = "org/model"  # a hub id: the spec takes it as it is (a name would be pulled, a folder read)


def _suggested(rec, name: str) -> list[list[str]]:
    return [shlex.split(step.command) for step in rec.next_steps
            if (step.command or "").startswith(f"ftadvisor {name} ")]


def _with_model(argv: list[str], model: str) -> list[str]:
    at = argv.index("--model") + 1
    return [*argv[:at], model, *argv[at + 1:]]


def test_a_catalog_name_becomes_the_hub_id_to_load_and_a_bare_size_names_none():
    assert trainable_model("llama-3.1-8b") == "meta-llama/Llama-3.1-8B"
    assert trainable_model("Qwen/Qwen2.5-14B") == "Qwen/Qwen2.5-14B"
    assert trainable_model("8b") is None
    assert trainable_model("no-such-model") is None


def test_an_instruct_name_loads_the_instruct_release_on_the_pages_as_in_the_commands():
    # The Fine-tune and Compare pages loaded the base model for an instruct name, the suggested
    # `tune` command the instruct release.
    assert trainable_model("llama-3.1-8b-instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    for name in FINETUNES:
        answers = SCENARIOS[name].answers
        rec = recommend(answers)
        tune = _suggested(rec, "tune")[0]
        page_model = tune_fields(answers, rec).get("model")
        assert page_model in (None, tune[tune.index("--model") + 1]), name  # None: a bare size, no weights


def test_no_advice_hands_nothing_and_answers_alone_hand_the_model_and_gpus():
    assert estimate_fields(None, None) == {} and tune_fields(None, None) == {} and compare_fields(None, None) == {}
    answers = Answers(model="llama-3.2-1b", gpu="L4", gpu_count=2)
    assert estimate_fields(answers, None) == {"model": "llama-3.2-1b", "gpu": "L4", "gpus": 2}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_estimate_fields_reproduce_the_sized_figures(name):
    answers = SCENARIOS[name].answers
    rec = recommend(answers)
    sized = rec.finetune.fit if rec.finetune is not None else rec.serving
    fields = estimate_fields(answers, rec)
    assert (fields["method"], fields.get("gpu"), fields["gpus"]) == (sized.method, sized.gpu, sized.gpus)
    assert estimate(EstimateRequest(**fields)).memory_gib["total"] == pytest.approx(sized.total_gib, abs=0.01)
    served = estimate(EstimateRequest(**serving_fields(answers, rec)))
    assert served.memory_gib["total"] == pytest.approx(rec.serving.total_gib, abs=0.01)


@pytest.mark.parametrize("name", FINETUNES)
def test_the_job_fields_make_a_valid_job_whose_alpha_follows_the_rank(name, tmp_path):
    from tuning.spec import JobSpec

    rec = recommend(SCENARIOS[name].answers)
    fields = tune_fields(SCENARIOS[name].answers, rec)
    assert "lora_alpha" not in fields  # the spec decides it
    spec = JobSpec(**(fields | {"model": PLACEHOLDER_MODEL}), data=str(tmp_path / "examples.jsonl"),
                   output=str(tmp_path / "run"))
    assert spec.lora_alpha == 2 * spec.lora_rank
    plan = rec.finetune
    assert (spec.epochs, spec.max_seq_len, spec.gpus) == (plan.epochs, plan.seq_len, plan.fit.gpus)


def test_the_comparison_starts_from_the_advised_gpu_and_fine_tune():
    from compare.spec import CompareSpec, FinetuneSettings

    answers = Answers(needs=["output_format", "specialized_reasoning"], labeled_examples=5000,
                      prompting_result="fails", domain_coverage="proprietary", model="llama-3.1-8b",
                      gpu="rtx-4090", gpu_count=1)
    rec = recommend(answers)
    advice = compare_fields(answers, rec)
    assert advice["gpu"] == "RTX 4090"  # the catalog's spelling
    assert advice["model"] == "meta-llama/Llama-3.1-8B"
    finetune = advice["finetune"]
    assert "method" not in finetune  # auto: QLoRA on a GPU, LoRA on a CPU, where the comparison runs
    assert (finetune["lora_rank"], finetune["epochs"], finetune["max_seq_len"]) == (
        rec.finetune.lora_rank, rec.finetune.epochs, rec.finetune.seq_len)
    assert FinetuneSettings(**finetune).lora_alpha == 2 * rec.finetune.lora_rank
    spec = CompareSpec(**(advice | {"model": PLACEHOLDER_MODEL}), data="x.jsonl", output="out")
    assert spec.finetune.method == "auto" and spec.advised.approach == rec.primary


@pytest.mark.parametrize("name", ["preference_pairs_only", "full_finetune_small_budget"])
def test_the_comparisons_adapter_trains_at_an_adapter_rate_whatever_the_plan(name):
    # The comparison trains an SFT LoRA: a DPO plan's 5e-6 or a full fine-tune's 1e-5 barely moves it.
    from compare.spec import FinetuneSettings

    rec = recommend(SCENARIOS[name].answers)
    assert rec.finetune.learning_rate < 1e-4  # the plan's own rate
    finetune = FinetuneSettings(**compare_fields(SCENARIOS[name].answers, rec)["finetune"])
    assert finetune.learning_rate == FinetuneSettings.model_fields["learning_rate"].default


def test_a_field_without_a_flag_is_refused_not_dropped():
    with pytest.raises(ValueError, match="ftadvisor compare has no flag for finetune.lora_alpha"):
        command("compare", {"data": "x.jsonl", "model": "m", "finetune": {"lora_alpha": 32}})


def test_command_spells_booleans_lists_and_numbers_as_the_parser_reads_them():
    assert command("estimate", {"model": "m", "double_quant": False, "gradient_checkpointing": True, "mfu": 0.5,
                                "lora_targets": ["q_proj", "v_proj"], "gpu": None}) == [
        "ftadvisor", "estimate", "--model", "m", "--targets", "q_proj,v_proj", "--no-double-quant",
        "--gradient-checkpointing", "--mfu", "0.5"]
    assert command("compare", {"data": "q.jsonl", "docs": ["a.md", "b"], "model": "m",
                               "scoring": {"names": ["json"]}, "output": "out"}) == [
        "ftadvisor", "compare", "--data", "q.jsonl", "--docs", "a.md", "b", "--model", "m", "--scorer", "json",
        "--output", "out"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_suggested_commands_parse_with_the_real_cli_to_the_advised_values(name, tmp_path, monkeypatch):
    """`estimate`, `tune` and `compare` as the advisor suggests them, read by `ftadvisor`'s own
    parser and spec builders, give the fields the pages start from."""
    import cli.compare
    import cli.estimate
    import cli.tune
    from cli.main import build_parser

    monkeypatch.chdir(tmp_path)  # the commands name files relative to where they are typed
    for folder in ("docs", "schemas"):  # the user's documents and database dumps
        (tmp_path / folder).mkdir()
    (tmp_path / "schemas" / "shop.sql").write_text("CREATE TABLE orders (id int);\n")
    answers = SCENARIOS[name].answers
    rec = recommend(answers)
    parser = build_parser()

    estimates = _suggested(rec, "estimate")
    advised = ([estimate_fields(answers, rec)] if rec.finetune else []) + [serving_fields(answers, rec)]
    assert len(estimates) == len(advised)
    for argv, fields in zip(estimates, advised, strict=True):
        assert cli.estimate.request_from_args(parser.parse_args(argv[1:])) == EstimateRequest(**fields)

    plan = rec.finetune
    tunes = _suggested(rec, "tune")
    advised = [job_fields(plan)] if plan else []
    if plan is not None and rec.then_dpo and plan.dpo_stage is not None:
        advised.append(dpo_stage_fields(plan))
    assert len(tunes) == len(advised)
    for argv, fields in zip(tunes, advised, strict=True):
        # The model (a catalog model, or the SFT stage's merged folder) is not here: a hub id stands in.
        spec = cli.tune.spec_from_args(parser.parse_args(_with_model(argv[1:], PLACEHOLDER_MODEL)))
        assert {field: getattr(spec, field) for field in fields} == fields
        assert spec.lora_alpha == 2 * spec.lora_rank  # left to the spec
    if tunes:
        assert tunes[0][tunes[0].index("--model") + 1] == runnable_model(plan.model)

    compares = _suggested(rec, "compare")
    assert len(compares) == (1 if answers.labeled_examples > 0 or plan is not None else 0)
    for argv in compares:
        spec = cli.compare.spec_from_args(parser.parse_args(_with_model(argv[1:], PLACEHOLDER_MODEL)))
        fields = compare_fields(answers, rec)
        assert spec.gpu == fields.get("gpu", spec.gpu)
        finetune = fields.get("finetune", {})
        assert {field: getattr(spec.finetune, field) for field in finetune} == finetune
        assert spec.finetune.lora_alpha == 2 * spec.finetune.lora_rank
