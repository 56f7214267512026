"""Load the base model and tokenizer the standard way (`from_pretrained` on a hub id or a folder),
with bitsandbytes 4-bit/8-bit quantization when asked, and the CPU QLoRA gradient fix. (LoRA
adapters themselves are training's: `tuning.lora`.)

Every load first goes through `lm.refs.check_available`: a known offline model name is
pulled, a folder must hold config.json, and a hub id that neither the cache nor the hub can give
fails in one line before transformers retries and prints its connection error.

Heavy imports live inside the functions: only the worker (and generate/merge) call these.
"""
from __future__ import annotations

import logging
from typing import Any


def pick_device(device: str = "auto") -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        from lm.errors import ModelError

        raise ModelError("device 'cuda' was asked for but torch sees no CUDA GPU: use device auto or cpu")
    return device


def compute_dtype(device: str):
    """bf16 on GPUs that have it, fp16 on older ones, fp32 on CPU (trl/transformers CPU path)."""
    import torch

    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def quantization_config(quant: str, double_quant: bool, device: str):
    """A `BitsAndBytesConfig` for nf4 (QLoRA: Dettmers et al. 2023) or int8, None for `none`."""
    if quant == "none":
        return None
    from transformers import BitsAndBytesConfig

    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # its import and 8-bit chatter
    if quant == "int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=double_quant,
        bnb_4bit_compute_dtype=compute_dtype(device),
    )


def load_tokenizer(model: str):
    """The model's tokenizer, with a pad token (the eos when it has none) for batching. `model`
    may also be a folder with only a tokenizer (a tuning run's adapter/)."""
    from pathlib import Path

    from transformers import AutoTokenizer

    from lm.refs import check_available

    folder = Path(model).expanduser()
    source = str(folder.resolve()) if (folder / "tokenizer_config.json").is_file() else check_available(model)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model: str, *, quant: str = "none", double_quant: bool = True, device: str = "auto",
               dtype: str | None = None) -> Any:
    """`AutoModelForCausalLM.from_pretrained` on a hub id or folder, placed on `device`, in
    `dtype` (a torch dtype name) or the device's compute dtype."""
    import torch
    from transformers import AutoModelForCausalLM

    from lm.refs import check_available

    model = check_available(model)
    device = pick_device(device)
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype) if dtype else compute_dtype(device)}
    qconfig = quantization_config(quant, double_quant, device)
    if qconfig is not None:
        kwargs["quantization_config"] = qconfig
        kwargs["device_map"] = {"": 0} if device == "cuda" else {"": "cpu"}
    loaded = AutoModelForCausalLM.from_pretrained(model, **kwargs)
    if qconfig is None:
        loaded = loaded.to(device)
    disable_bnb_cpu_repack(loaded)
    return loaded


def disable_bnb_cpu_repack(model: Any) -> int:
    """Guard against silently wrong QLoRA gradients on CPUs with AVX512-BF16.

    After any no-grad forward (evaluate, generate), bitsandbytes 0.50 repacks 4-bit weights for
    a CPU inference kernel that has no autograd: later training matmuls then give zero LoRA
    gradients in earlier layers while the loss still falls (bitsandbytes/nn/modules.py,
    `Linear4bit.forward`, `support_avx512bf16_for_cpu`). Turning that path off on every
    `Linear4bit` keeps training correct. Returns how many modules were changed.
    """
    changed = 0
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False
            changed += 1
    return changed
