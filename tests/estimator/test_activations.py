"""What autograd really saves per token in a decoder layer, measured with torch's saved-tensor hooks
on small Llama models built by transformers on CPU (one layer: a 2-layer model minus a 1-layer
one), against `estimator.activations.layer_activation_bytes`: pure bf16, mixed precision,
LoRA under autocast, peft-trainer's QLoRA (bitsandbytes 4-bit + prepare_model_for_kbit_training)
and the CPU backend's fp32 LoRA."""
import json

import pytest

from estimator import EstimateRequest, load_model_spec

pytestmark = pytest.mark.slow

TINY = {"model_type": "llama", "vocab_size": 1000, "hidden_size": 512, "intermediate_size": 1376,
        "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 128,
        "max_position_embeddings": 512, "tie_word_embeddings": False}
BATCH, SEQ = 2, 32


def _saved_bytes(model, ids, autocast):
    import torch

    seen = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            model(input_ids=ids, labels=ids)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    return sum(n for ptr, n in seen.items() if ptr not in params)


def _base(layers, dtype, folder, quant):
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig

    torch.manual_seed(0)
    fields = {k: v for k, v in TINY.items() if k != "model_type"} | {"num_hidden_layers": layers}
    model = AutoModelForCausalLM.from_config(LlamaConfig(**fields), dtype=dtype, attn_implementation="sdpa")
    if not quant:
        return model
    # bitsandbytes quantizes at load: save the 16-bit model, reload it in 4-bit (CPU kernels).
    path = folder / f"layers{layers}"
    model.save_pretrained(path)
    config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    return AutoModelForCausalLM.from_pretrained(path, quantization_config=config, device_map={"": "cpu"},
                                                dtype=dtype, attn_implementation="sdpa")


def _build(layers, dtype, lora, folder, quant=False):
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    model = _base(layers, dtype, folder, quant)
    if quant:  # peft-trainer: fp32 embeddings, lm_head and norms (checkpointing off: we count saved tensors)
        assert any(type(m).__name__ == "Linear4bit" for m in model.modules())
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        assert model.get_input_embeddings().weight.dtype == torch.float32
    if lora:
        model = get_peft_model(model, LoraConfig(r=8, lora_dropout=lora["dropout"], target_modules=lora["targets"]),
                               autocast_adapter_dtype=lora["fp32"])
    return model.train()


CASES = {
    "full-pure-bf16": {"req": {"method": "full", "stack": "torchtune"}, "dtype": "bf16", "autocast": False},
    "full-mixed": {"req": {"method": "full", "stack": "peft-trainer"}, "dtype": "fp32", "autocast": True},
    "lora-fp32-autocast": {"req": {"method": "lora"}, "dtype": "bf16", "autocast": True,
                           "lora": {"targets": "all-linear", "dropout": 0.0, "fp32": True}},
    "lora-qv-dropout": {"req": {"method": "lora", "stack": "torchtune", "lora_targets": ["q_proj", "v_proj"],
                                "lora_dropout": 0.1}, "dtype": "bf16", "autocast": False,
                        "lora": {"targets": ["q_proj", "v_proj"], "dropout": 0.1, "fp32": False}},
    "lora-o-down": {"req": {"method": "lora", "stack": "torchtune", "lora_targets": ["o_proj", "down_proj"]},
                    "dtype": "bf16", "autocast": False,
                    "lora": {"targets": ["o_proj", "down_proj"], "dropout": 0.0, "fp32": False}},
    "cpu-lora-dropout": {"req": {"method": "lora", "device": "cpu", "lora_dropout": 0.1}, "dtype": "fp32",
                         "autocast": False, "lora": {"targets": "all-linear", "dropout": 0.1, "fp32": True}},
    "peft-trainer-qlora": {"req": {"method": "qlora", "quant": "nf4", "stack": "peft-trainer"}, "dtype": "bf16",
                           "autocast": True, "quant": True,
                           "lora": {"targets": "all-linear", "dropout": 0.0, "fp32": True}},
}


@pytest.mark.parametrize("name", list(CASES))
def test_layer_activations_match_what_autograd_saves(name, tmp_path):
    import torch

    from estimator.activations import layer_activation_bytes
    from estimator.step_setup import setup

    case = CASES[name]
    (tmp_path / "config.json").write_text(json.dumps(TINY))
    spec = load_model_spec(str(tmp_path / "config.json"))
    req = EstimateRequest(model=str(tmp_path), batch_size=BATCH, seq_len=SEQ, **case["req"])
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[case["dtype"]]
    ids = torch.randint(0, TINY["vocab_size"], (BATCH, SEQ))
    one, two = (_build(n, dtype, case.get("lora"), tmp_path, case.get("quant", False)) for n in (1, 2))
    measured = (_saved_bytes(two, ids, case["autocast"]) - _saved_bytes(one, ids, case["autocast"])) / (BATCH * SEQ)
    # Autocast also keeps a bf16 copy of every fp32 weight a layer trains: per step, not per token.
    trained = [p for n, p in two.named_parameters() if ".layers.1." in n and p.dtype == torch.float32
               and p.requires_grad]
    measured -= sum(2 * p.numel() for p in trained if p.dim() == 2) / (BATCH * SEQ) if case["autocast"] else 0
    formula, how = layer_activation_bytes(req, spec, setup(req, spec))
    if req.lora_dropout and req.device != "cpu":  # CPU dropout keeps its mask in the input dtype (2 B), CUDA a bool
        formula += sum(m.in_features for m in spec.targeted_modules(req.lora_targets))
    assert formula == pytest.approx(measured, rel=0.03), how
