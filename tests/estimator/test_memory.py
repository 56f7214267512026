"""Each memory term against its own arithmetic, and how the terms move with the inputs."""
import subprocess
import sys

import pytest

from estimator import EstimateRequest, estimate, load_model_spec
from estimator.memory import CUDA_CONTEXT_BYTES, GIB, memory_breakdown

N_8B = 8_030_261_248
LORA_8B_R16 = 41_943_040


@pytest.fixture(scope="module")
def spec():
    return load_model_spec("meta-llama/Llama-3.1-8B")


def mem(spec, **kw):
    return memory_breakdown(EstimateRequest(model="meta-llama/Llama-3.1-8B", **kw), spec)


def gib(b, name):
    return b.components[name].bytes / GIB


def test_bf16_weights_are_two_bytes_per_param(spec):
    b = mem(spec, method="inference")
    assert b.components["weights"].bytes == 2 * N_8B
    assert mem(spec, method="inference", precision="fp32").components["weights"].bytes == 4 * N_8B


def test_nf4_weights_keep_embeddings_and_head_in_16_bit(spec):
    quantized = N_8B - 2 * 128256 * 4096 - (32 * 2 + 1) * 4096  # layers' Linear weights only
    plain = mem(spec, method="inference", quant="nf4", double_quant=False).components["weights"].bytes
    dq = mem(spec, method="inference", quant="nf4", double_quant=True).components["weights"].bytes
    rest = 2 * (N_8B - quantized)
    assert plain == pytest.approx(quantized * (0.5 + 4 / 64) + rest)
    assert dq == pytest.approx(quantized * (0.5 + 1 / 64 + 4 / (64 * 256)) + rest)
    int8 = mem(spec, method="inference", quant="int8").components["weights"].bytes
    assert dq < int8 < 2 * N_8B


def test_lora_adapter_fp32_with_adamw(spec):
    b = mem(spec, method="lora")
    assert b.components["adapter"].bytes == (4 + 2) * LORA_8B_R16  # fp32 + autocast's bf16 copy
    assert mem(spec, method="lora", pure_bf16=True).components["adapter"].bytes == 2 * LORA_8B_R16
    assert b.components["gradients"].bytes == 4 * LORA_8B_R16
    assert b.components["optimizer_states"].bytes == 8 * LORA_8B_R16
    assert mem(spec, method="lora", optimizer="adamw-8bit").components["optimizer_states"].bytes == pytest.approx(
        2 * LORA_8B_R16, rel=0.01)
    assert mem(spec, method="lora", optimizer="sgd").components["optimizer_states"].bytes == 0


def test_full_mixed_precision_vs_pure_bf16(spec):
    mixed = mem(spec, method="full", gradient_accumulation=2)
    pure = mem(spec, method="full", pure_bf16=True, gradient_accumulation=2)
    # fp32 master (4) + 16-bit copies (2, not the embedding lookup); fp32 grads and AdamW states.
    assert mixed.components["weights"].bytes == 4 * N_8B + 2 * (N_8B - 128256 * 4096)
    assert mixed.components["gradients"].bytes == 4 * N_8B
    assert mixed.components["optimizer_states"].bytes == 8 * N_8B
    assert pure.components["weights"].bytes == 2 * N_8B
    assert pure.components["optimizer_states"].bytes == 4 * N_8B
    assert pure.total_bytes < mixed.total_bytes


def test_checkpointing_keeps_layer_inputs(spec):
    plain = mem(spec, method="lora", batch_size=2, seq_len=2048, loss="chunked")
    ckpt = mem(spec, method="lora", batch_size=2, seq_len=2048, loss="chunked", gradient_checkpointing=True)
    layer_inputs = 2 * 4096 * 32 * 4096  # 2 B x h x layers x tokens
    assert ckpt.phases["forward+loss"] - ckpt.phases["backward"] < plain.phases["forward+loss"]
    assert gib(ckpt, "activations") * GIB >= layer_inputs
    assert gib(ckpt, "activations") < gib(plain, "activations") / 5


def test_activations_scale_with_tokens(spec):
    a1 = gib(mem(spec, method="lora", batch_size=1, seq_len=1024), "activations")
    a4 = gib(mem(spec, method="lora", batch_size=4, seq_len=1024), "activations")
    assert a4 == pytest.approx(4 * a1, rel=0.01)


def test_eager_attention_adds_quadratic_scores(spec):
    sdpa = gib(mem(spec, method="lora", seq_len=4096), "activations")
    eager = gib(mem(spec, method="lora", seq_len=4096, attention="eager"), "activations")
    scores = 32 * 32 * 4096**2 * (4 + 2) / GIB  # layers x heads x S^2 x (fp32 probs + bf16 copy)
    assert eager - sdpa == pytest.approx(scores, rel=0.01)


def test_logits_loss_dominates_with_128k_vocab_and_chunking_shrinks_it(spec):
    std = mem(spec, method="lora", batch_size=4, seq_len=2048, gradient_checkpointing=True)
    chunked = mem(spec, method="lora", batch_size=4, seq_len=2048, gradient_checkpointing=True, loss="chunked")
    assert std.components["logits_loss"].bytes == 8192 * 128256 * (2 + 12)
    assert std.components["logits_loss"].bytes == max(t.bytes for k, t in std.components.items() if k != "weights")
    assert chunked.components["logits_loss"].bytes < std.components["logits_loss"].bytes / 1.5


def test_sharding_divides_states(spec):
    base = dict(method="full", gpus=8, gradient_accumulation=2)
    ddp, z1, z2, z3 = (mem(spec, sharding=s, **base) for s in ("none", "zero1", "zero2", "zero3"))
    assert z1.components["optimizer_states"].bytes == ddp.components["optimizer_states"].bytes / 8
    assert z2.components["gradients"].bytes == ddp.components["gradients"].bytes / 8
    assert z3.components["weights"].bytes < z2.components["weights"].bytes
    assert z3.total_bytes < z2.total_bytes < z1.total_bytes < ddp.total_bytes
    assert ddp.components["comm_buffers"].bytes == 4 * N_8B  # DDP gradient buckets
    assert mem(spec, method="full").components["comm_buffers"].bytes == 0


def test_offload_moves_states_to_cpu(spec):
    b = mem(spec, method="full", offload_optimizer=True, gradient_accumulation=2)
    # DeepSpeed offload: AdamW states and fp32 masters on CPU; 16-bit weights and gradients on the GPU
    assert b.components["optimizer_states"].bytes == 0 and b.cpu_bytes == (8 + 4) * N_8B
    assert b.components["gradients"].bytes == 2 * N_8B
    assert b.components["weights"].bytes == 2 * (N_8B - 128256 * 4096)


def test_full_ft_peak_moves_to_the_optimizer_step_without_accumulation(spec):
    b = mem(spec, method="full", batch_size=1, seq_len=256, loss="chunked", gradient_checkpointing=True)
    assert b.peak_phase == "optimizer step"
    assert b.components["activations"].bytes == 0 and b.components["gradients"].bytes == 4 * N_8B


def test_total_includes_context_and_every_component_has_a_formula(spec):
    e = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="qlora", quant="nf4"), spec)
    parts = sum(v for k, v in e.memory_gib.items() if k != "total")
    assert e.memory_gib["total"] == pytest.approx(parts, abs=0.01)
    assert e.memory_gib["cuda_context"] == pytest.approx(CUDA_CONTEXT_BYTES / GIB, abs=1e-3)
    assert all(e.components[k] for k in e.memory_gib if k != "total")
    assert e.band.low_gib < e.memory_gib["total"] < e.band.high_gib


def test_suggestions_when_it_does_not_fit(spec):
    e = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="full", gpu="RTX 4090",
                                 batch_size=4, seq_len=4096), spec)
    assert e.fits_gpu is False and e.suggestions
    assert any(s.fits for s in e.suggestions)
    assert {"gradient checkpointing on", "LoRA instead of full fine-tuning"} <= {s.change for s in e.suggestions}
    ok = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="qlora", quant="nf4", gpu="RTX 4090",
                                  gradient_checkpointing=True), spec)
    assert ok.fits_gpu and not ok.suggestions


def test_request_rejects_inconsistent_input():
    with pytest.raises(ValueError, match="quant"):
        EstimateRequest(model="x", method="qlora")
    with pytest.raises(ValueError, match="lora_rank"):
        EstimateRequest(model="x", lora_rank=0)
    with pytest.raises(ValueError, match="extra"):
        EstimateRequest(model="x", rank=8)
    assert EstimateRequest(model="x", lora_targets="q_proj, v_proj").lora_targets == ["q_proj", "v_proj"]


def test_import_estimator_loads_no_heavy_library():
    code = ("import sys, estimator, estimator.estimate, estimator.fit, estimator.memory;"
            "heavy = {'torch', 'transformers', 'peft', 'bitsandbytes', 'streamlit'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# What autograd really saves, measured with torch's saved-tensor hooks on a small Llama built by
# transformers on CPU (per layer: a 2-layer model minus a 1-layer one), against the formula.
TINY = {"model_type": "llama", "vocab_size": 1000, "hidden_size": 512, "intermediate_size": 1376,
        "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 128,
        "max_position_embeddings": 512, "tie_word_embeddings": False}


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


def _build(layers, dtype, lora):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    fields = {k: v for k, v in TINY.items() if k != "model_type"} | {"num_hidden_layers": layers}
    model = AutoModelForCausalLM.from_config(LlamaConfig(**fields), dtype=dtype, attn_implementation="sdpa")
    if lora:
        model = get_peft_model(model, LoraConfig(r=8, lora_dropout=lora["dropout"], target_modules=lora["targets"]),
                               autocast_adapter_dtype=lora["fp32"])
    return model.train()


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    {"req": {"method": "full", "pure_bf16": True}, "dtype": "bf16", "autocast": False, "lora": None},
    {"req": {"method": "full"}, "dtype": "fp32", "autocast": True, "lora": None},
    {"req": {"method": "lora"}, "dtype": "bf16", "autocast": True,
     "lora": {"targets": "all-linear", "dropout": 0.0, "fp32": True}},
    {"req": {"method": "lora", "pure_bf16": True, "lora_targets": ["q_proj", "v_proj"], "lora_dropout": 0.1},
     "dtype": "bf16", "autocast": False, "lora": {"targets": ["q_proj", "v_proj"], "dropout": 0.1, "fp32": False}},
    {"req": {"method": "lora", "pure_bf16": True, "lora_targets": ["o_proj", "down_proj"]}, "dtype": "bf16",
     "autocast": False, "lora": {"targets": ["o_proj", "down_proj"], "dropout": 0.0, "fp32": False}},
], ids=["full-pure-bf16", "full-mixed", "lora-fp32-autocast", "lora-qv-dropout", "lora-o-down"])
def test_layer_activations_match_what_autograd_saves(case, tmp_path):
    import json

    import torch

    from estimator.activations import layer_activation_bytes
    from estimator.terms import setup

    (tmp_path / "config.json").write_text(json.dumps(TINY))
    spec = load_model_spec(str(tmp_path / "config.json"))
    batch, seq = 2, 32
    req = EstimateRequest(model=str(tmp_path), batch_size=batch, seq_len=seq, **case["req"])
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[case["dtype"]]
    ids = torch.randint(0, TINY["vocab_size"], (batch, seq))
    one, two = (_build(n, dtype, case["lora"]) for n in (1, 2))
    measured = (_saved_bytes(two, ids, case["autocast"]) - _saved_bytes(one, ids, case["autocast"])) / (batch * seq)
    # Autocast also keeps a bf16 copy of every fp32 weight a layer uses: per step, not per token.
    trained = [p for n, p in two.named_parameters() if ".layers.1." in n and p.dtype == torch.float32]
    measured -= sum(2 * p.numel() for p in trained if p.dim() == 2) / (batch * seq) if case["autocast"] else 0
    formula, how = layer_activation_bytes(req, spec, setup(req, spec))
    if req.lora_dropout:  # CPU dropout keeps its mask in the input dtype (2 B); CUDA's fused kernel a bool
        formula += sum(m.in_features for m in spec.targeted_modules(req.lora_targets))
    assert formula == pytest.approx(measured, rel=0.03), how
