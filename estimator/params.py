"""Exact parameter and LoRA counts, architecture by architecture. Pure arithmetic: no torch.

Every formula mirrors the transformers 5.23 modeling file of its architecture (`models/<type>/
modeling_<type>.py`) and peft 0.21's LoRA layers; `tests/estimator/test_params.py` checks each
catalog model against the real modules built on the meta device and against peft's counts.

Shapes per decoder layer (H hidden, I intermediate, n/k query/key-value heads, d head_dim):
  llama, mistral, qwen2, gemma2   q_proj H->n*d, k_proj/v_proj H->k*d, o_proj n*d->H,
                                  gate_proj/up_proj H->I, down_proj I->H
  phi3                            qkv_proj H->(n+2k)*d (fused), o_proj, gate_up_proj H->2I (fused), down_proj
  mixtral                         attention as llama; router `gate` H->E; E experts of w1/w3 H->I, w2 I->H
  gpt2                            Conv1D c_attn H->3H, attn.c_proj H->H, c_fc H->I, mlp.c_proj I->H (all biased)
Norms: RMSNorm weight H (two per layer; gemma2 four: pre/post attention and pre/post feed-forward);
gpt2 LayerNorm weight+bias 2H (two per layer); one final norm.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from estimator.errors import EstimatorError
from estimator.model_spec import LinearModule

if TYPE_CHECKING:
    from estimator.model_spec import ModelSpec

TARGET_SETS = ("all-linear", "attention")

# peft 0.21 keeps transformers-4 target names for Mixtral (w1/w2/w3/gate) and maps them onto the
# fused transformers-5 expert parameters; w1 and w3 become ONE LoRA on `gate_up_proj` with rank 2r
# (peft/utils/transformers_weight_conversion.py: _MOE_FUSED_TARGETS, rank_pattern = r * 2).
_PEFT_FUSED = {"mixtral": (("w1", "w3"), "gate_up_proj")}


def _shape_key(spec: ModelSpec) -> tuple:
    return (
        spec.model_type, spec.hidden_size, spec.intermediate_size, spec.num_attention_heads,
        spec.num_key_value_heads, spec.head_dim, spec.num_local_experts, spec.num_experts_per_tok,
        spec.qkv_bias, spec.o_bias, spec.mlp_bias,
    )


def linear_modules(spec: ModelSpec) -> list[LinearModule]:
    """The linear layers of one decoder layer, in the order transformers builds them."""
    return list(_linear_modules(_shape_key(spec)))


@lru_cache(maxsize=512)
def _linear_modules(key: tuple) -> tuple[LinearModule, ...]:
    model_type, h, i, n_heads, n_kv, d, experts, top_k, qkv_bias, o_bias, mlp_bias = key
    q_out, kv_out = n_heads * d, n_kv * d

    def lin(name, fan_in, fan_out, path, bias=False, attention=False, instances=1, active=1):
        return LinearModule(
            name=name, in_features=fan_in, out_features=fan_out, bias=bias, attention=attention,
            instances=instances, active_instances=active, path=path,
        )

    if model_type == "gpt2":  # Conv1D everywhere; head_dim is H / heads so attention works on H.
        return (
            lin("c_attn", h, 3 * h, "attn.c_attn", bias=True, attention=True),
            lin("c_proj", h, h, "attn.c_proj", bias=True, attention=True),
            lin("c_fc", h, i, "mlp.c_fc", bias=True),
            lin("c_proj", i, h, "mlp.c_proj", bias=True),
        )
    if model_type == "phi3":  # fused projections (modeling_phi3.py: qkv_proj, gate_up_proj)
        return (
            lin("qkv_proj", h, q_out + 2 * kv_out, "self_attn.qkv_proj", attention=True),
            lin("o_proj", q_out, h, "self_attn.o_proj", attention=True),
            lin("gate_up_proj", h, 2 * i, "mlp.gate_up_proj"),
            lin("down_proj", i, h, "mlp.down_proj"),
        )
    attn = (
        lin("q_proj", h, q_out, "self_attn.q_proj", bias=qkv_bias, attention=True),
        lin("k_proj", h, kv_out, "self_attn.k_proj", bias=qkv_bias, attention=True),
        lin("v_proj", h, kv_out, "self_attn.v_proj", bias=qkv_bias, attention=True),
        lin("o_proj", q_out, h, "self_attn.o_proj", bias=o_bias, attention=True),
    )
    if model_type == "mixtral":  # router + E experts (stored fused as 3-D parameters in transformers 5)
        return attn + (
            lin("gate", h, experts, "mlp.gate"),
            lin("w1", h, i, "mlp.experts.w1", instances=experts, active=top_k),
            lin("w2", i, h, "mlp.experts.w2", instances=experts, active=top_k),
            lin("w3", h, i, "mlp.experts.w3", instances=experts, active=top_k),
        )
    return attn + (
        lin("gate_proj", h, i, "mlp.gate_proj", bias=mlp_bias),
        lin("up_proj", h, i, "mlp.up_proj", bias=mlp_bias),
        lin("down_proj", i, h, "mlp.down_proj", bias=mlp_bias),
    )


def _norm_params_per_norm(spec: ModelSpec) -> int:
    # LayerNorm (gpt2) has weight and bias; RMSNorm a weight only.
    return 2 * spec.hidden_size if spec.model_type == "gpt2" else spec.hidden_size


def _norms_per_layer(spec: ModelSpec) -> int:
    return 4 if spec.model_type == "gemma2" else 2


def embedding_params(spec: ModelSpec) -> int:
    """Token embedding V x H, plus gpt2's learned position embedding P x H."""
    positions = spec.max_position_embeddings if spec.model_type == "gpt2" else 0
    return (spec.vocab_size + positions) * spec.hidden_size


def lm_head_params(spec: ModelSpec) -> int:
    """Output projection H x V without bias; tied weights are the embedding's, counted once."""
    return 0 if spec.tie_word_embeddings else spec.vocab_size * spec.hidden_size


def layer_params(spec: ModelSpec) -> int:
    """One decoder layer: every linear (all experts) with its bias, plus the layer's norms."""
    linear = sum(m.params for m in linear_modules(spec))
    return linear + _norms_per_layer(spec) * _norm_params_per_norm(spec)


def norm_params(spec: ModelSpec) -> int:
    """All norms: each layer's plus the final one."""
    per_norm = _norm_params_per_norm(spec)
    return (spec.num_hidden_layers * _norms_per_layer(spec) + 1) * per_norm


def param_count(spec: ModelSpec) -> int:
    """Total unique parameters (tied embeddings once), as `sum(p.numel() for p in model.parameters())`."""
    final_norm = _norm_params_per_norm(spec)
    return (
        embedding_params(spec)
        + spec.num_hidden_layers * layer_params(spec)
        + final_norm
        + lm_head_params(spec)
    )


def active_params(spec: ModelSpec) -> int:
    """Parameters a token goes through: the total minus the experts the router does not pick."""
    idle_per_layer = sum(
        m.params // m.instances * (m.instances - m.active_instances) for m in linear_modules(spec)
    )
    return param_count(spec) - spec.num_hidden_layers * idle_per_layer


def _target_list(targets: str | list[str]) -> list[str]:
    if isinstance(targets, str):
        targets = targets.split(",")
    names = [t.strip() for t in targets if t and t.strip()]
    if not names:
        raise EstimatorError("lora_targets: give all-linear, attention, or module names such as q_proj,v_proj")
    return names


def _matches(module: LinearModule, target: str) -> bool:
    # peft matches a plain string target by suffix on the module's full name (check_target_module_exists).
    return module.path == target or module.path.endswith("." + target) or module.name == target


def targeted_modules(spec: ModelSpec, targets: str | list[str]) -> list[LinearModule]:
    """The per-layer modules `targets` selects; unknown names raise with the valid ones."""
    modules = linear_modules(spec)
    names = _target_list(targets)
    keywords = [n.lower() for n in names]
    if keywords == ["all-linear"]:
        # peft's all-linear: every nn.Linear/Conv1D except the output layer (lm_head, outside the
        # decoder layers); for Mixtral it also maps the router and experts (_MOE_TARGET_MODULE_MAPPING).
        return modules
    if keywords == ["attention"]:
        return [m for m in modules if m.attention]
    if "all-linear" in keywords or "attention" in keywords:
        raise EstimatorError("lora_targets: all-linear and attention cannot be combined with module names")
    unknown = [n for n in names if not any(_matches(m, n) for m in modules)]
    if unknown:
        valid = ", ".join(dict.fromkeys(_target_name(m, modules) for m in modules))
        raise EstimatorError(
            f"lora_targets: {', '.join(unknown)} is not a linear module of {spec.model_type} "
            f"(valid: all-linear, attention, {valid})"
        )
    chosen = [m for m in modules if any(_matches(m, n) for n in names)]
    _check_fused(spec, chosen)
    return chosen


def _check_fused(spec: ModelSpec, chosen: list[LinearModule]) -> None:
    fused = _PEFT_FUSED.get(spec.model_type)
    if not fused:
        return
    parts, fused_name = fused
    present = [p for p in parts if any(m.name == p for m in chosen)]
    if 0 < len(present) < len(parts):
        raise EstimatorError(
            f"lora_targets: {' and '.join(parts)} are one fused {fused_name} parameter in transformers 5; "
            f"target both or neither (got only {', '.join(present)})"
        )


def _target_name(module: LinearModule, modules: list[LinearModule]) -> str:
    # The short name when it is unique in the layer, else the path (gpt2 has two c_proj).
    return module.name if sum(m.name == module.name for m in modules) == 1 else module.path


def resolve_targets(spec: ModelSpec, targets: str | list[str]) -> list[str]:
    """peft `target_modules` names for `targets`, in layer order."""
    modules = linear_modules(spec)
    return [_target_name(m, modules) for m in targeted_modules(spec, targets)]


def lora_params(spec: ModelSpec, rank: int, targets: str | list[str] = "all-linear") -> int:
    """peft's trainable count: r x (in + out) per targeted linear per instance per layer.

    LoRA adds A (r x in) and B (out x r) and no bias (peft's default bias="none"). Mixtral's w1 and
    w3 are one fused gate_up_proj (H -> 2I) in transformers 5, which peft adapts with rank 2r:
    2r x (H + 2I) per expert, not 2 x r x (H + I).
    """
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise EstimatorError(f"lora_rank must be an integer >= 1, got {rank!r}")
    chosen = targeted_modules(spec, targets)
    per_layer = sum(rank * (m.in_features + m.out_features) * m.instances for m in chosen)
    fused = _PEFT_FUSED.get(spec.model_type)
    if fused and all(any(m.name == p for m in chosen) for p in fused[0]):
        parts = [m for m in chosen if m.name in fused[0]]
        per_layer -= sum(rank * (m.in_features + m.out_features) * m.instances for m in parts)
        fan_in = parts[0].in_features
        fan_out = sum(m.out_features for m in parts)
        fused_rank = rank * len(parts)
        per_layer += fused_rank * (fan_in + fan_out) * parts[0].instances
    return per_layer * spec.num_hidden_layers


def to_hf_config(spec: ModelSpec) -> dict:
    """A minimal config.json transformers instantiates with exactly this spec's parameter count."""
    if spec.model_type == "gpt2":
        return {
            "model_type": "gpt2", "vocab_size": spec.vocab_size, "n_embd": spec.hidden_size,
            "n_layer": spec.num_hidden_layers, "n_head": spec.num_attention_heads,
            "n_positions": spec.max_position_embeddings, "n_inner": spec.intermediate_size,
            "tie_word_embeddings": spec.tie_word_embeddings,
        }
    config = {
        "model_type": spec.model_type, "vocab_size": spec.vocab_size, "hidden_size": spec.hidden_size,
        "intermediate_size": spec.intermediate_size, "num_hidden_layers": spec.num_hidden_layers,
        "num_attention_heads": spec.num_attention_heads, "num_key_value_heads": spec.num_key_value_heads,
        "head_dim": spec.head_dim, "max_position_embeddings": spec.max_position_embeddings,
        "tie_word_embeddings": spec.tie_word_embeddings,
    }
    if spec.model_type == "llama":
        config.update(attention_bias=bool(spec.qkv_bias), mlp_bias=bool(spec.mlp_bias))
    elif spec.model_type == "gemma2":
        config["attention_bias"] = bool(spec.qkv_bias)
    elif spec.model_type == "mixtral":
        config.update(num_local_experts=spec.num_local_experts, num_experts_per_tok=spec.num_experts_per_tok)
    return config
