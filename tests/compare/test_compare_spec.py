"""CompareSpec: defaults, validation with the field named, absolute paths, canonical arms, and
defaults taken from the advisor."""
from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from compare.plan import planned_stages
from compare.spec import CompareSpec


def _spec(tmp_path, **kw):
    return CompareSpec(data=tmp_path / "qa.jsonl", model="m", output=tmp_path / "run", **kw)


def test_defaults(tmp_path):
    spec = _spec(tmp_path)
    assert spec.kind == "compare" and spec.schema_version == 1
    assert spec.arms == ["base", "fewshot", "rag", "finetuned", "finetuned_rag"]
    assert (spec.prompting.fewshot_examples, spec.prompting.rag_examples, spec.primary_metric) == (4, 0, None)
    assert spec.finetune.method == "auto" and spec.generation.greedy and spec.rag.k == 3
    assert (spec.generation.batch_size, spec.finetune.train_prompts, spec.generation.engine) == (8, "separate", "auto")
    assert spec.data.is_absolute() and spec.output.is_absolute()


@pytest.mark.parametrize("given, alpha", [
    ({}, 32), ({"lora_rank": 64}, 128), ({"lora_rank": 64, "lora_alpha": 16}, 16),
    ({"lora_rank": 64, "lora_alpha": 32.0}, 32),  # as a saved spec.json may hold it
])
def test_alpha_is_twice_the_rank_unless_given(tmp_path, given, alpha):
    """Failed before for rank 64 without alpha: the page and the Python API trained alpha 32."""
    spec = _spec(tmp_path, finetune=given)
    assert spec.finetune.lora_alpha == alpha and isinstance(spec.finetune.lora_alpha, int)
    assert CompareSpec.model_validate_json(spec.model_dump_json()).finetune.lora_alpha == alpha


def test_arms_are_deduplicated_in_canonical_order(tmp_path):
    assert _spec(tmp_path, arms=["finetuned", "base", "finetuned"]).arms == ["base", "finetuned"]


def test_a_relative_model_folder_is_made_absolute(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)  # the worker runs elsewhere: it must get the absolute folder
    spec = CompareSpec(model=f"./{tiny_model_dir.name}", data=tmp_path / "qa.jsonl", output=tmp_path / "run")
    assert spec.model == str(tiny_model_dir)


@pytest.mark.parametrize("field, value, where", [
    ("arms", ["magic"], "arms.0"),
    ("arms", [], "arms"),
    ("eval_fraction", 1.0, "eval_fraction"),
    ("finetune", {"method": "full"}, "finetune.method"),
    ("finetune", {"lora_rank": 0}, "finetune.lora_rank"),
    ("rag", {"chunk_size": 200, "chunk_overlap": 100}, "rag"),
    ("generation", {"max_new_tokens": 0}, "generation.max_new_tokens"),
    ("surprise", 1, "surprise"),
    ("prompting", {"fewshot_examples": 0}, "prompting.fewshot_examples"),
    ("primary_metric", "bleu", ""),  # not a metric the run computes
])
def test_invalid_values_name_the_field(tmp_path, field, value, where):
    with pytest.raises(ValidationError) as info:
        _spec(tmp_path, **{field: value})
    assert any(".".join(str(p) for p in e["loc"]) == where for e in info.value.errors()), info.value


@pytest.mark.parametrize("arms, stages", [
    (["base"], ["split", "base", "costs", "results"]),
    (["rag"], ["split", "index", "rag", "costs", "results"]),
    (["finetuned"], ["split", "train", "finetuned", "forgetting", "costs", "results"]),
    (["fewshot"], ["split", "examples", "fewshot", "costs", "results"]),
    (None, ["split", "examples", "index", "base", "fewshot", "rag", "train", "finetuned", "train_rag", "finetuned_rag",
            "forgetting", "costs", "results"]),
])
def test_stages_follow_the_arms(tmp_path, arms, stages):
    spec = _spec(tmp_path, **({"arms": arms} if arms else {}))
    assert planned_stages(spec) == stages


def test_the_rag_arm_gets_demonstrations_only_when_asked(tmp_path):
    assert planned_stages(_spec(tmp_path, arms=["rag"], prompting={"rag_examples": 4}))[:2] == ["split", "examples"]
    spec = _spec(tmp_path, prompting={"rag_examples": 2})
    assert (spec.examples_for("fewshot"), spec.examples_for("rag"), spec.examples_for("base")) == (4, 2, 0)


def test_the_primary_metric_is_a_metric_of_the_run(tmp_path):
    assert _spec(tmp_path, primary_metric="rouge_l").primary_metric == "rouge_l"
    with pytest.raises(ValidationError, match="primary_metric must be one of answer_correct, exact_match, token_f1, "
                       "rouge_l, got 'json'"):
        _spec(tmp_path, primary_metric="json")  # a scorer the run does not use


def test_json_round_trip(tmp_path):
    spec = _spec(tmp_path, docs=[tmp_path], relevant_field="db_name", finetune={"max_steps": 3})
    assert CompareSpec.model_validate_json(spec.model_dump_json()) == spec


def test_import_is_light():
    """Reading the plan (and starting the worker) loads no model library: every stage imports them
    in its functions."""
    code = ("import importlib, pkgutil, sys, compare, compare.pipeline, compare.plan, compare.worker, compare.stages, "
            "cli.compare; [importlib.import_module(f'compare.stages.{m.name}') "
            "for m in pkgutil.iter_modules(compare.stages.__path__)]; "
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'trl', 'chromadb', 'sentence_transformers', "
            "'streamlit') if m in sys.modules]; print(heavy, len(sys.modules['compare.plan'].STAGES))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] 14"
