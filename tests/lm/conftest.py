"""Fixtures the tests of lm share."""
import json

import pytest


@pytest.fixture(scope="session")
def lora_run(tiny_model_dir, tmp_path_factory):
    """A run folder as a LoRA training leaves it (spec.json naming the base, adapter/ with the
    tokenizer), the adapter made by peft with non-zero weights so it changes the answers' logits."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run_dir = tmp_path_factory.mktemp("runs") / "lora"
    config = LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), config).save_pretrained(run_dir / "adapter")
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(run_dir / "adapter")
    (run_dir / "spec.json").write_text(json.dumps({"model": str(tiny_model_dir), "quant": "none"}))
    return run_dir
