"""The step's moments and the peak: activations with checkpointing and offloading, the optimizer
step, the CUDA context and allocator slack (none on a CPU), and what to change when it does not fit."""
import subprocess
import sys

import pytest

from estimator import EstimateRequest, estimate, load_model_spec
from estimator.peak_memory import CUDA_CONTEXT_BYTES, memory_breakdown
from estimator.step_setup import GIB

N_8B = 8_030_261_248


@pytest.fixture(scope="module")
def spec():
    return load_model_spec("meta-llama/Llama-3.1-8B")


def mem(spec, **kw):
    return memory_breakdown(EstimateRequest(model="meta-llama/Llama-3.1-8B", **kw), spec)


def gib(b, name):
    return b.components[name].bytes / GIB


def test_checkpointing_keeps_layer_inputs(spec):
    plain = mem(spec, method="lora", batch_size=2, seq_len=2048)
    ckpt = mem(spec, method="lora", batch_size=2, seq_len=2048, gradient_checkpointing=True)
    layer_inputs = 2 * 4096 * 32 * 4096  # 2 B x h x layers x tokens
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


def test_offloaded_checkpoints_leave_two_layers_on_the_gpu(spec):
    kept = mem(spec, method="lora", stack="unsloth", batch_size=2, seq_len=2048, gradient_checkpointing=True,
               activation_offloading=False)
    offloaded = mem(spec, method="lora", stack="unsloth", batch_size=2, seq_len=2048, gradient_checkpointing=True)
    per_layer = 2 * 2048 * 4096 * 2  # tokens x h x 2 B
    assert kept.phases["forward+loss"] - offloaded.phases["forward+loss"] == pytest.approx(30 * per_layer)
    assert offloaded.cpu_bytes == pytest.approx(30 * per_layer)


def test_full_ft_peak_moves_to_the_optimizer_step_without_accumulation(spec):
    b = mem(spec, method="full", stack="peft-trainer", batch_size=1, seq_len=256, gradient_checkpointing=True)
    assert b.peak_phase == "optimizer step"
    assert b.components["activations"].bytes == 0 and b.components["gradients"].bytes == 4 * N_8B


def test_total_includes_context_and_every_component_has_a_formula(spec):
    e = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="qlora", quant="nf4"), spec)
    parts = sum(v for k, v in e.memory_gib.items() if k != "total")
    assert e.memory_gib["total"] == pytest.approx(parts, abs=0.01)
    assert e.memory_gib["cuda_context"] == pytest.approx(CUDA_CONTEXT_BYTES / GIB, abs=1e-3)
    assert all(e.components[k] for k in e.memory_gib if k != "total")
    assert e.band.low_gib < e.memory_gib["total"] < e.band.high_gib
    assert e.stack == "trl" and e.resolved["loss"] == "fused" and e.resolved["pure_bf16"] is True


def test_a_cpu_process_has_no_context_and_no_allocator_slack(spec):
    cpu = estimate(EstimateRequest(model="meta-llama/Llama-3.2-1B", method="lora", device="cpu"))
    assert cpu.memory_gib["cuda_context"] == cpu.memory_gib["allocator_overhead"] == 0
    assert cpu.resolved["precision"] == "fp32" and not cpu.suggestions
    assert any("CPU" in a for a in cpu.assumptions)


def test_suggestions_when_it_does_not_fit(spec):
    e = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="full", gpu="RTX 4090",
                                 batch_size=4, seq_len=4096), spec)
    assert e.fits_gpu is False and e.suggestions
    assert any(s.fits for s in e.suggestions)
    assert {"gradient checkpointing on", "LoRA instead of full fine-tuning"} <= {s.change for s in e.suggestions}
    ok = estimate(EstimateRequest(model="meta-llama/Llama-3.1-8B", method="qlora", quant="nf4", gpu="RTX 4090",
                                  gradient_checkpointing=True), spec)
    assert ok.fits_gpu and not ok.suggestions


def test_import_estimator_loads_no_heavy_library():
    code = ("import sys, estimator, estimator.estimate, estimator.fit, estimator.peak_memory, estimator.serving;"
            "heavy = {'torch', 'transformers', 'peft', 'bitsandbytes', 'streamlit'} & set(sys.modules);"
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
