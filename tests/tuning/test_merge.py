"""The saved adapter reloads with PeftModel, and merging it gives the same model."""
import pytest

from tuning.merge import merge_run

pytestmark = pytest.mark.slow


def test_adapter_reloads_with_peft_and_merges_to_the_same_logits(trained_run, tiny_model_dir):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tuned = PeftModel.from_pretrained(base, str(trained_run / "adapter")).eval()
    merged_dir = merge_run(trained_run)
    assert merged_dir == trained_run / "merged" and (merged_dir / "config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    batch = AutoTokenizer.from_pretrained(merged_dir)(["What is 3 plus 4?"], return_tensors="pt")
    with torch.no_grad():
        expected, got = tuned(**batch).logits, merged(**batch).logits
        plain = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()(**batch).logits
    assert torch.allclose(expected, got, atol=1e-4)
    assert not torch.allclose(plain, got, atol=1e-3)  # the adapter did change the model
