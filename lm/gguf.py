"""A GGUF file -> a plain Hugging Face folder (safetensors, tokenizer, chat template, generation
config) that `from_pretrained(folder)` loads with no `gguf` package and no quantizer.

transformers 5.23 loads GGUF with `from_pretrained(folder, gguf_file=NAME)` (the `gguf` package
reads the file; without the `kernels` package every weight is dequantized to float32, see
transformers/quantizers/quantizer_gguf.py `validate_environment`). Two traps: such a
model refuses `save_pretrained` (`GgufHfQuantizer.is_serializable` is False) and its config
carries a `quantization_config`. So its state dict is copied into a fresh model of the same class
built without that config, and saved in bf16. The result holds the GGUF's dequantized values
rounded to bf16: for a Q4_1 file, Q4_1-dequantized weights, not the original bf16 release.

Heavy imports stay inside the functions.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

SAVE_DTYPE = "bfloat16"  # half the bytes of float32; the dequantized Q4_1 values lose <= 2^-9 relative
# Keys the GGUF loader leaves in the tokenizer's and the model's config that describe how this
# process loaded them, not the model.
_LOAD_ONLY_TOKENIZER_KWARGS = ("is_local", "local_files_only", "gguf_file")
_LOAD_ONLY_CONFIG_ATTRS = ("quantization_config", "_model_name_or_path")


def load_gguf(folder: str | Path, filename: str) -> tuple[Any, Any]:
    """(model in float32, eval mode; tokenizer) as transformers reads the GGUF file."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=filename)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=filename)
    return model.eval(), tokenizer


def plain_copy(gguf_model: Any, dtype_name: str = SAVE_DTYPE) -> Any:
    """A fresh model of the same class, without the quantization config, holding the GGUF model's
    weights cast to `dtype_name`. Built on the meta device so no random init is computed."""
    import torch

    dtype = getattr(torch, dtype_name)
    config = copy.deepcopy(gguf_model.config)
    for attr in _LOAD_ONLY_CONFIG_ATTRS:
        if hasattr(config, attr):
            delattr(config, attr)
    config.dtype = dtype
    with torch.device("meta"):
        fresh = type(gguf_model)(config)
    state = {name: tensor.to(dtype) for name, tensor in gguf_model.state_dict().items()}
    fresh.load_state_dict(state, strict=True, assign=True)  # every key, or it raises
    fresh.tie_weights()  # assign=True replaced the tied parameters by two copies: tie them again
    fresh.generation_config = copy.deepcopy(gguf_model.generation_config)
    return fresh.eval()


def save_plain_folder(gguf_folder: str | Path, filename: str, output: str | Path) -> dict[str, Any]:
    """Convert `gguf_folder/filename` into the folder `output` (created); returns what was saved:
    parameters, dtype, architecture, context length."""
    model, tokenizer = load_gguf(gguf_folder, filename)
    plain = plain_copy(model)
    context = int(getattr(plain.config, "max_position_embeddings", 0) or 0)
    if context:
        tokenizer.model_max_length = context  # the GGUF tokenizer says "unlimited" (1e30)
    for key in _LOAD_ONLY_TOKENIZER_KWARGS:
        tokenizer.init_kwargs.pop(key, None)
    plain.save_pretrained(str(output))
    tokenizer.save_pretrained(str(output))
    return {
        "params": sum(p.numel() for p in plain.parameters()),
        "dtype": SAVE_DTYPE,
        "architecture": type(plain).__name__,
        "context_tokens": context,
    }
