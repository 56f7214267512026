"""QLoRA (NF4 + double quant) with the AVX512-BF16 gradient guard, DPO, and chat-format SFT with
assistant-only loss, each a real trl run on the tiny model (in-process: one torch import)."""
import pytest

import runs
from tuning import worker
from tuning.spec import JobSpec

pytestmark = pytest.mark.slow


def _bnb_4bit_works() -> str | None:
    """None when bitsandbytes can quantize and run a 4-bit layer here, else why not."""
    try:
        import bitsandbytes as bnb
        import torch

        layer = bnb.nn.Linear4bit(8, 8, quant_type="nf4")
        layer = layer.to("cpu") if not torch.cuda.is_available() else layer.cuda()
        layer(torch.ones(1, 8, device=layer.weight.device))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not supported on this device
        return f"bitsandbytes 4-bit does not run on this device: {exc}"


def _layer0_lora_b_grads(tiny_model_dir, guard: bool) -> dict[str, float]:
    """Gradient size of each layer-0 LoRA B after an eval-style no-grad forward, then a training step."""
    import torch
    from peft import get_peft_model

    from lm.loading import load_model, load_tokenizer
    from tuning.lora import lora_config

    torch.manual_seed(0)
    model = load_model(str(tiny_model_dir), quant="nf4", double_quant=True, device="cpu")
    assert sum(type(m).__name__ == "Linear4bit" for m in model.modules()) == 14  # 7 linears x 2 layers
    if not guard:  # undo loading's fix, to show the test catches the trap
        for module in model.modules():
            if hasattr(module, "support_avx512bf16_for_cpu"):
                module.support_avx512bf16_for_cpu = True
    model = get_peft_model(model, lora_config(model, rank=8, alpha=16, dropout=0.0, targets="all-linear"))
    batch = load_tokenizer(str(tiny_model_dir))(["What is 2 plus 2? 2 plus 2 is 4."], return_tensors="pt")
    model.eval()
    with torch.no_grad():
        model(**batch)  # what trainer.evaluate() or generate() does
    model.train()
    model(**batch, labels=batch["input_ids"]).loss.backward()
    return {n: p.grad.abs().sum().item() for n, p in model.named_parameters() if "layers.0." in n and "lora_B" in n}


def test_qlora_gradients_stay_correct_after_an_evaluate(tiny_model_dir):
    if (why := _bnb_4bit_works()) is not None:
        pytest.skip(why)
    grads = _layer0_lora_b_grads(tiny_model_dir, guard=True)
    assert len(grads) == 7 and all(g > 0 for g in grads.values()), grads


def test_without_the_guard_the_trap_is_real_on_avx512_bf16_cpus(tiny_model_dir):
    """The control: proves the test above would catch the bug where the CPU has the kernel."""
    if (why := _bnb_4bit_works()) is not None:
        pytest.skip(why)
    from bitsandbytes.functional import has_avx512bf16

    if not has_avx512bf16():
        pytest.skip("this CPU has no AVX512-BF16: bitsandbytes never takes the repacked path here")
    grads = _layer0_lora_b_grads(tiny_model_dir, guard=False)
    assert any(g == 0 for g in grads.values()), grads


def _run(tiny_model_dir, data, tmp_path, **fields):
    spec = JobSpec(model=str(tiny_model_dir), data=str(data), output=str(tmp_path / "run"), max_steps=6,
                   batch_size=4, logging_steps=2, near_dup_threshold=None, learning_rate=2e-3, **fields)
    run_dir = runs.create_run(spec)
    assert worker.run(run_dir) == 0, runs.load_status(run_dir).error
    status = runs.load_status(run_dir)
    assert status.state == "completed" and status.step == 6
    return run_dir, [m["loss"] for m in runs.read_metrics(run_dir) if "loss" in m]


def test_qlora_nf4_double_quant_trains_with_an_evaluate_midway(tiny_model_dir, sft_data, tmp_path):
    if (why := _bnb_4bit_works()) is not None:
        pytest.skip(why)
    run_dir, losses = _run(tiny_model_dir, sft_data, tmp_path, method="qlora", eval_steps=3)
    assert runs.read_spec(run_dir)["quant"] == "nf4" and (run_dir / "adapter/adapter_config.json").exists()
    assert losses[-1] < losses[0]


def test_dpo_runs_and_prefers_the_chosen_answers(tiny_model_dir, dpo_data, tmp_path):
    run_dir, losses = _run(tiny_model_dir, dpo_data, tmp_path, method="dpo")
    assert abs(losses[0] - 0.6931) < 0.01  # ln 2: policy == reference at the start
    assert losses[-1] < losses[0]
    assert (run_dir / "adapter/adapter_config.json").exists()


def test_chat_messages_train_on_the_assistant_turns(tiny_model_dir, tmp_path, jsonl):
    rows = [{"messages": [{"role": "user", "content": f"Say {w}."}, {"role": "assistant", "content": w * 3}]}
            for w in ("alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta")]
    run_dir, losses = _run(tiny_model_dir, jsonl(tmp_path / "chat.jsonl", rows), tmp_path, eval_fraction=0.0)
    import torch

    args = torch.load(run_dir / "adapter/training_args.bin", weights_only=False)
    assert args.assistant_only_loss  # the tiny model's template marks the assistant turns
    assert losses[-1] < losses[0]
