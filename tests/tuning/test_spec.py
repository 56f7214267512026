"""JobSpec: defaults by method, alpha by rank, and a specific message for each inconsistent choice."""
import json

import pytest
from pydantic import ValidationError

from tuning.data import FieldMapping
from tuning.spec import JobSpec

BASE = dict(model="m", data="d.jsonl", output="out")


def test_defaults_follow_the_method():
    lora, full, qlora = JobSpec(**BASE), JobSpec(**BASE, method="full"), JobSpec(**BASE, method="qlora")
    assert (lora.lr, full.lr, qlora.lr) == (2e-4, 1e-5, 2e-4)
    assert (lora.quant, full.quant, qlora.quant) == ("none", "none", "nf4")
    assert qlora.double_quant and lora.lora_targets == "all-linear" and 1 <= lora.epochs <= 3
    dpo = JobSpec(**BASE, method="dpo", dpo_base="qlora")
    assert dpo.quant == "nf4" and dpo.base_method == "qlora" and dpo.kind_of_data == "dpo"


@pytest.mark.parametrize("fields, message", [
    (dict(method="qlora", quant="none"), "quant must be int8 or nf4"),
    (dict(method="lora", quant="nf4"), "needs method qlora"),
    (dict(method="full", quant="int8"), "needs method qlora"),
    (dict(method="dpo", packing=True), "packing applies to SFT only"),
    (dict(sharding="zero3"), "needs gpus of 2 or more"),
    (dict(lora_targets=[]), "at least one module"),
    (dict(lora_rank=0), "greater than or equal to 1"),
    (dict(lora_alpha=0), "greater than or equal to 1"),
    (dict(lora_alpha=16.5), "valid integer"),
    (dict(batch_size=-1), "greater than or equal to 1"),
    (dict(eval_fraction=1.0), "less than 1"),
    (dict(method="ppo"), "'lora', 'qlora', 'full' or 'dpo'"),
    (dict(unknown_field=1), "Extra inputs are not permitted"),
])
def test_inconsistent_specs_say_what_to_change(fields, message):
    with pytest.raises(ValidationError, match=message):
        JobSpec(**BASE, **fields)


def test_a_relative_model_folder_is_made_absolute(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tiny_model_dir.parent)  # the worker runs elsewhere: it must get the absolute folder
    spec = JobSpec(model=f"./{tiny_model_dir.name}", data="d.jsonl", output=str(tmp_path / "run"))
    assert spec.model == str(tiny_model_dir)


def test_round_trips_as_json_with_a_mapping():
    spec = JobSpec(**BASE, mapping=FieldMapping(prompt_field="question", completion_field="query"), gpus=2,
                   sharding="fsdp")
    again = JobSpec.model_validate_json(spec.model_dump_json())
    assert again == spec and again.schema_version == 1 and again.kind == "tune"


@pytest.mark.parametrize("fields, alpha", [
    ({}, 32), (dict(lora_rank=64), 128), (dict(lora_rank=8), 16),
    (dict(lora_rank=64, lora_alpha=16), 16), (dict(lora_rank=64, lora_alpha=None), 128),
])
def test_alpha_is_twice_the_rank_unless_given(fields, alpha):
    spec = JobSpec(**BASE, **fields)
    assert spec.lora_alpha == alpha and isinstance(spec.lora_alpha, int)
    assert JobSpec.model_validate_json(spec.model_dump_json()).lora_alpha == alpha  # saved as it trains


def test_a_spec_json_saved_before_alpha_became_an_int_still_loads(tmp_path):
    """As the worker reads spec.json on a resume: the float alpha of a run started at rank 64 (32.0,
    the old default whatever the rank) is what that run trains on, not 2 x rank."""
    old = {"schema_version": 1, "kind": "tune", "model": "some/model", "data": str(tmp_path / "train.jsonl"),
           "mapping": None, "output": str(tmp_path / "run"), "method": "lora", "dpo_base": "lora", "dpo_beta": 0.1,
           "lora_rank": 64, "lora_alpha": 32.0, "lora_dropout": 0.05, "lora_targets": "all-linear", "quant": "none",
           "double_quant": True, "learning_rate": None, "epochs": 2.0, "max_steps": None, "batch_size": 4,
           "grad_accum": 1, "max_seq_len": 512, "packing": False, "gradient_checkpointing": False, "seed": 42,
           "eval_fraction": 0.1, "near_dup_threshold": 0.9, "save_steps": 100, "logging_steps": 5,
           "eval_steps": None, "merge": False, "gpus": 1, "sharding": "none", "device": "auto"}
    spec = JobSpec.model_validate_json(json.dumps(old))
    assert spec.lora_alpha == 32 and isinstance(spec.lora_alpha, int)
