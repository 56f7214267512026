"""Which decoder-layer linears a LoRA `target_modules` value selects, and peft's trainable count.

Works on the layer table (`estimator.layers.decoder_linears`), not on a ModelSpec, so that
`ModelSpec` can use it without an import cycle. Mirrors peft 0.21: a plain string target matches a
module's full name by suffix (`tuners/tuners_utils.py: check_target_module_exists`); `all-linear`
is every Linear/Conv1D except the output layer (`utils/other.py: INCLUDE_LINEAR_LAYERS_SHORTHAND`).
"""
from __future__ import annotations

from estimator.errors import EstimatorError
from estimator.layers import LinearModule

# peft 0.21 keeps transformers-4 target names for Mixtral (w1/w2/w3/gate) and maps them onto the
# fused transformers-5 expert parameters; w1 and w3 become ONE LoRA on `gate_up_proj` with rank 2r
# (peft/utils/transformers_weight_conversion.py: _MOE_FUSED_TARGETS, rank_pattern = r * 2).
_PEFT_FUSED = {"mixtral": (("w1", "w3"), "gate_up_proj")}


def _target_list(targets: str | list[str]) -> list[str]:
    if isinstance(targets, str):
        targets = targets.split(",")
    names = [t.strip() for t in targets if t and t.strip()]
    if not names:
        raise EstimatorError("lora_targets: give all-linear, attention, or module names such as q_proj,v_proj")
    return names


def _matches(module: LinearModule, target: str) -> bool:
    return module.path == target or module.path.endswith("." + target) or module.name == target


def target_name(module: LinearModule, modules: tuple[LinearModule, ...]) -> str:
    """The short name when it is unique in the layer, else the path (gpt2 has two c_proj)."""
    return module.name if sum(m.name == module.name for m in modules) == 1 else module.path


def select(modules: tuple[LinearModule, ...], model_type: str, targets: str | list[str]) -> list[LinearModule]:
    """The per-layer modules `targets` selects; unknown names raise with the valid ones."""
    names = _target_list(targets)
    keywords = [n.lower() for n in names]
    if keywords == ["all-linear"]:
        # For Mixtral peft's all-linear also maps the router and experts (_MOE_TARGET_MODULE_MAPPING).
        return list(modules)
    if keywords == ["attention"]:
        return [m for m in modules if m.attention]
    if "all-linear" in keywords or "attention" in keywords:
        raise EstimatorError("lora_targets: all-linear and attention cannot be combined with module names")
    unknown = [n for n in names if not any(_matches(m, n) for m in modules)]
    if unknown:
        valid = ", ".join(dict.fromkeys(target_name(m, modules) for m in modules))
        raise EstimatorError(
            f"lora_targets: {', '.join(unknown)} is not a linear module of {model_type} "
            f"(valid: all-linear, attention, {valid})"
        )
    chosen = [m for m in modules if any(_matches(m, n) for n in names)]
    _check_fused(model_type, chosen)
    return chosen


def _check_fused(model_type: str, chosen: list[LinearModule]) -> None:
    fused = _PEFT_FUSED.get(model_type)
    if not fused:
        return
    parts, fused_name = fused
    present = [p for p in parts if any(m.name == p for m in chosen)]
    if 0 < len(present) < len(parts):
        raise EstimatorError(
            f"lora_targets: {' and '.join(parts)} are one fused {fused_name} parameter in transformers 5; "
            f"target both or neither (got only {', '.join(present)})"
        )


def lora_params_per_layer(chosen: list[LinearModule], model_type: str, rank: int) -> int:
    """peft's trainable count in one layer: r x (in + out) per targeted linear per instance.

    LoRA adds A (r x in) and B (out x r) and no bias (peft's default bias="none"). Mixtral's w1 and
    w3 are one fused gate_up_proj (H -> 2I) in transformers 5, which peft adapts with rank 2r:
    2r x (H + 2I) per expert, not 2 x r x (H + I).
    """
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise EstimatorError(f"lora_rank must be an integer >= 1, got {rank!r}")
    per_layer = sum(rank * (m.in_features + m.out_features) * m.instances for m in chosen)
    fused = _PEFT_FUSED.get(model_type)
    if fused and all(any(m.name == p for m in chosen) for p in fused[0]):
        parts = [m for m in chosen if m.name in fused[0]]
        per_layer -= sum(rank * (m.in_features + m.out_features) * m.instances for m in parts)
        fused_out = sum(m.out_features for m in parts)
        per_layer += rank * len(parts) * (parts[0].in_features + fused_out) * parts[0].instances
    return per_layer
