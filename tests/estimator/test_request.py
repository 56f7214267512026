"""`EstimateRequest`: bounds, consistency, and the fields the stack and the device fill."""
import pytest

from estimator import EstimateRequest


def test_rejects_inconsistent_input():
    with pytest.raises(ValueError, match="quant"):
        EstimateRequest(model="x", method="qlora")
    with pytest.raises(ValueError, match="lora_rank"):
        EstimateRequest(model="x", lora_rank=0)
    with pytest.raises(ValueError, match="extra"):
        EstimateRequest(model="x", rank=8)
    with pytest.raises(ValueError, match="stack"):
        EstimateRequest(model="x", stack="deepspeed-chat")
    assert EstimateRequest(model="x", lora_targets="q_proj, v_proj").lora_targets == ["q_proj", "v_proj"]


def test_precision_follows_the_device_and_the_gpu():
    assert EstimateRequest(model="x").precision == "bf16"
    assert EstimateRequest(model="x", device="cpu").precision == "fp32"  # lm/loading.py compute_dtype
    assert EstimateRequest(model="x", gpu="T4").precision == "fp16"  # no bf16 on a T4
    assert EstimateRequest(model="x", device="cpu", precision="bf16").precision == "bf16"
    assert EstimateRequest(model="x", device="auto").device == "cuda"


@pytest.mark.parametrize("stack,method,pure,loss", [
    ("trl", "lora", False, "fused"), ("trl", "qlora", True, "fused"), ("trl", "full", True, "fused"),
    ("peft-trainer", "qlora", False, "standard"), ("peft-trainer", "full", False, "standard"),
    ("torchtune", "lora", True, "chunked"), ("unsloth", "qlora", False, "fused"), ("litgpt", "full", True, "chunked"),
])
def test_the_stack_fills_dtype_and_loss(stack, method, pure, loss):
    req = EstimateRequest(model="x", stack=stack, method=method, quant="nf4" if method == "qlora" else "none")
    assert (req.pure_bf16, req.loss) == (pure, loss)
    explicit = EstimateRequest(model="x", stack=stack, method=method, quant=req.quant, pure_bf16=not pure,
                               loss="standard")
    assert (explicit.pure_bf16, explicit.loss) == (not pure, "standard")


def test_unsloth_offloads_checkpoints_from_512_tokens():
    assert EstimateRequest(model="x", stack="unsloth", gradient_checkpointing=True, seq_len=512).activation_offloading
    assert not EstimateRequest(
        model="x", stack="unsloth", gradient_checkpointing=True, seq_len=256
    ).activation_offloading
    assert not EstimateRequest(model="x", stack="unsloth", seq_len=4096).activation_offloading
    assert not EstimateRequest(model="x", gradient_checkpointing=True).activation_offloading


def test_litgpt_runs_foreach_adamw_on_a_gpu_only():
    assert EstimateRequest(model="x", stack="litgpt").optimizer_foreach
    assert not EstimateRequest(model="x", stack="litgpt", device="cpu").optimizer_foreach
    assert not EstimateRequest(model="x").optimizer_foreach  # HF's adamw_torch_fused


def test_serving_sizes_the_cache_for_its_requests():
    req = EstimateRequest(model="x", method="inference", prompt_tokens=500, output_tokens=200, concurrency=8)
    assert (req.batch_size, req.seq_len) == (8, 700)
    given = EstimateRequest(model="x", method="inference", prompt_tokens=500, batch_size=2, seq_len=4096)
    assert (given.batch_size, given.seq_len) == (2, 4096)
