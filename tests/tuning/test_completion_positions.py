"""trl's fused LM head, made to project only the completion's positions on a CPU: the same loss and
LoRA gradients as projecting every position, from fewer rows through the vocabulary."""
from __future__ import annotations

import pytest

from tuning.completion_positions import score_completion_positions_only


def _loss_grads_rows(tiny_model_dir, monkeypatch, compact: bool):
    """(loss, LoRA gradients by name, rows the vocabulary projection saw) for one SFT-shaped batch:
    a prompt of 40 tokens scored nowhere, then 6 completion tokens scored."""
    import torch
    import trl.trainer.utils as trl_utils
    from peft import LoraConfig, get_peft_model
    from trl.kernels import chunked_logprob

    from lm.loading import load_model

    with monkeypatch.context() as patch:  # both patches undone on leaving
        # trl's own choice, as it ships (a recipe run earlier in this process may have replaced it)
        patch.setattr(trl_utils, "_use_triton", chunked_logprob._use_triton)
        if compact:
            score_completion_positions_only()
        rows: list[int] = []
        kernel = trl_utils._ChunkedLogProbFunction
        apply = kernel.apply
        patch.setattr(kernel, "apply", lambda hidden, *rest: rows.append(hidden.shape[0]) or apply(hidden, *rest))

        torch.manual_seed(0)
        model = load_model(str(tiny_model_dir), quant="none", double_quant=False, device="cpu")
        trl_utils.add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear",
                                                 task_type="CAUSAL_LM"))
        model.train()
        generator = torch.Generator().manual_seed(1)
        ids = torch.randint(3, model.config.vocab_size, (2, 46), generator=generator)
        labels = ids.clone()
        labels[:, :40] = -100
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, fused_lm_head=True)
        out.loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out.loss.item(), grads, rows


def test_only_the_completion_positions_reach_the_vocabulary_and_the_loss_is_the_same(tiny_model_dir, monkeypatch):
    every_loss, every_grads, every_rows = _loss_grads_rows(tiny_model_dir, monkeypatch, compact=False)
    loss, grads, rows = _loss_grads_rows(tiny_model_dir, monkeypatch, compact=True)

    assert every_rows == [2 * 45]  # trl 1.16 off Triton: every position but the last, of both rows
    assert rows == [2 * 6]  # the 6 scored completion tokens of each row
    assert loss == pytest.approx(every_loss, rel=1e-6)
    assert grads.keys() == every_grads.keys() and len(grads) > 0
    for name, grad in grads.items():
        assert grad.allclose(every_grads[name], rtol=1e-4, atol=1e-7), name
