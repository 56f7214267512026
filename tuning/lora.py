"""LoRA adapters for training (peft): which modules get one, and the `LoraConfig`."""
from __future__ import annotations

from typing import Any

ATTENTION_HINTS = ("attn", "attention")


def resolve_lora_targets(model: Any, targets: str | list[str]) -> str | list[str]:
    """peft `target_modules`: "all-linear" as is, "attention" as the attention projections'
    names found in the model (q_proj/k_proj/v_proj/o_proj for Llama), or the given names."""
    if isinstance(targets, list) or targets == "all-linear":
        return targets
    import torch

    names = set()
    for qualified, module in model.named_modules():
        is_linear = isinstance(module, torch.nn.Linear) or type(module).__name__ in ("Linear4bit", "Linear8bitLt")
        if is_linear and any(hint in qualified.lower() for hint in ATTENTION_HINTS):
            names.add(qualified.rsplit(".", 1)[-1])
    if not names:
        from tuning.errors import TuningError

        raise TuningError("lora_targets 'attention' found no attention projections: name the modules instead")
    return sorted(names)


def lora_config(model: Any, *, rank: int, alpha: float, dropout: float, targets: str | list[str]):
    from peft import LoraConfig

    return LoraConfig(
        r=rank, lora_alpha=alpha, lora_dropout=dropout, bias="none", task_type="CAUSAL_LM",
        target_modules=resolve_lora_targets(model, targets),
    )
