"""The loss's memory by kind and stack, against each kernel's own arithmetic."""
import pytest

from estimator import EstimateRequest, load_model_spec
from estimator.loss_memory import TRL_CPU_BACKWARD_TILES, loss_terms
from estimator.step_setup import setup

V, H = 128256, 4096


@pytest.fixture(scope="module")
def spec():
    return load_model_spec("meta-llama/Llama-3.1-8B")


def loss(spec, **kw):
    req = EstimateRequest(model="meta-llama/Llama-3.1-8B", **kw)
    return loss_terms(req, spec, setup(req, spec))["loss"].bytes


def test_standard_loss_is_logits_plus_three_fp32_buffers(spec):
    assert loss(spec, stack="peft-trainer", batch_size=4, seq_len=2048) == 8192 * V * (2 + 12)
    assert loss(spec, loss="standard", batch_size=4, seq_len=2048) == 8192 * V * (2 + 12)


def test_torchtune_chunked_keeps_fp32_log_probs_and_litgpt_bf16(spec):
    tokens = 2 * 1024
    torchtune = loss(spec, stack="torchtune", batch_size=2, seq_len=1024)
    assert torchtune == tokens * V * (2 + 4) + tokens // 8 * V * 12
    litgpt = loss(spec, stack="litgpt", batch_size=2, seq_len=1024)
    assert litgpt == tokens * V * (2 + 2) + 128 * V * 6


def test_compiled_torchtune_loss_keeps_bf16_logits_only(spec):
    tokens = 2 * 2048
    fused = loss(spec, stack="torchtune", loss="fused", batch_size=2, seq_len=2048)
    assert fused == tokens * (V * 2 + 4) + tokens // 8 * V * 6
    assert fused < loss(spec, stack="torchtune", batch_size=2, seq_len=2048) / 2


def test_trl_fused_head_holds_no_logits(spec):
    tokens = 4 * 2048
    gpu = loss(spec, batch_size=4, seq_len=2048)
    # hidden states saved + fp32 gradient + its bf16 cast + per-token fp32 stats + one bf16 tile
    assert gpu == tokens * H * 2 + tokens * 8 * 4 + tokens * H * (4 + 2) + 4096 * 32768 * 2
    assert gpu < loss(spec, loss="standard", batch_size=4, seq_len=2048) / 20
    cpu = loss(spec, device="cpu", batch_size=4, seq_len=2048)
    assert cpu - tokens * (H * 4 + 32 + H * 8) == TRL_CPU_BACKWARD_TILES * 4096 * 32768 * 4


def test_fused_kernels_are_far_below_the_standard_loss(spec):
    standard = loss(spec, loss="standard", batch_size=2, seq_len=4096)
    for stack in ("trl", "peft-trainer", "torchtune"):  # unsloth: one chunk up to 4 GiB of fp32 logits
        assert loss(spec, stack=stack, loss="fused", batch_size=2, seq_len=4096) < standard / 3, stack


def test_unsloth_chunks_cap_fp32_logits_at_4_gib(spec):
    small = loss(spec, stack="unsloth", batch_size=1, seq_len=1024)  # 0.5 GiB of fp32 logits: one chunk
    assert small == 1024 * H * 2 + 1024 * 4 + 1024 * V * (2 + 8)
    big = loss(spec, stack="unsloth", batch_size=8, seq_len=4096)  # 16 GiB: 4 chunks of 8192 tokens
    assert big == 32768 * H * 2 + 32768 * 4 + 8192 * V * 10


def test_peft_trainer_qlora_adds_the_bf16_cast_of_its_fp32_lm_head(spec):
    plain = loss(spec, stack="peft-trainer", method="lora")
    qlora = loss(spec, stack="peft-trainer", method="qlora", quant="nf4")
    assert qlora - plain == 2 * V * H
