"""The shape of a model, as far as memory, parameter and FLOP counts need it.

Built from a Hugging Face config.json (see `estimator.models.load_model_spec`). Counts are exact:
they must equal the transformers model built from the same config on the meta device.
The arithmetic lives in `estimator.params`; the methods here are its public face.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Architectures whose parameter layout `estimator.params` knows exactly (transformers 5 modeling files).
SUPPORTED_MODEL_TYPES = ("llama", "mistral", "mixtral", "qwen2", "gemma2", "phi3", "gpt2")

# Biases each architecture hard-codes in transformers 5 (qwen2: q/k/v only; gpt2: everywhere).
# llama reads `attention_bias` and `mlp_bias` from the config, gemma2 `attention_bias`.
_NO_BIAS = {"qkv_bias": False, "o_bias": False, "mlp_bias": False}
_FIXED_BIASES = {
    "mistral": _NO_BIAS,
    "mixtral": _NO_BIAS,
    "phi3": _NO_BIAS,
    "qwen2": {"qkv_bias": True, "o_bias": False, "mlp_bias": False},
    "gpt2": {"qkv_bias": True, "o_bias": True, "mlp_bias": True},
    "gemma2": {"mlp_bias": False},
}


class LinearModule(BaseModel):
    """One nn.Linear (or GPT-2 Conv1D) kind inside a decoder layer, named as peft targets it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Module name peft matches, e.g. q_proj, gate_up_proj, c_attn.")
    in_features: int = Field(ge=1)
    out_features: int = Field(ge=1)
    bias: bool = False
    instances: int = Field(1, ge=1, description="Copies per layer (MoE experts hold one each).")
    active_instances: int = Field(1, ge=1, description="Copies each token goes through (top-k experts).")
    attention: bool = Field(description="Part of self-attention (for the `attention` target set).")
    path: str = Field("", description="Path inside the decoder layer, e.g. self_attn.q_proj, attn.c_proj.")

    @property
    def weight_params(self) -> int:
        """Weights of all instances (in x out each)."""
        return self.in_features * self.out_features * self.instances

    @property
    def params(self) -> int:
        """Weights plus biases of all instances."""
        return (self.in_features + self.bias) * self.out_features * self.instances


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Catalog id, hub id, config path, or size such as 7b.")
    source: Literal["catalog", "config", "hub", "size"]
    approximate: bool = Field(False, description="True for a bare size: a representative shape.")
    model_type: str = Field(description="config.json model_type: llama, mistral, mixtral, qwen2, gemma2, phi3, gpt2.")
    vocab_size: int = Field(ge=1)
    hidden_size: int = Field(ge=1)
    intermediate_size: int = Field(ge=1)
    num_hidden_layers: int = Field(ge=1)
    num_attention_heads: int = Field(ge=1)
    num_key_value_heads: int = Field(ge=1)
    head_dim: int = Field(ge=1)
    max_position_embeddings: int = Field(ge=1)
    tie_word_embeddings: bool
    num_local_experts: int = Field(1, ge=1, description="MoE experts per layer; 1 for dense models.")
    num_experts_per_tok: int = Field(1, ge=1)
    # Added by the models engineer; all optional so a spec can be built from the fields above alone.
    qkv_bias: bool | None = Field(None, description="q/k/v projections have biases (None: the architecture's default).")
    o_bias: bool | None = Field(None, description="Attention output projection has a bias (None: architecture default).")
    mlp_bias: bool | None = Field(None, description="MLP projections have biases (None: architecture default).")
    catalog_id: str | None = Field(None, description="The catalog entry this spec came from, if any.")
    note: str = Field("", description="How the name was resolved, when that is worth saying (offline fallback, size).")

    @model_validator(mode="before")
    @classmethod
    def _fill_biases(cls, data: Any) -> Any:
        """Fill the biases the architecture fixes; configurable ones default to none."""
        if not isinstance(data, dict):
            return data
        model_type = data.get("model_type")
        if model_type not in SUPPORTED_MODEL_TYPES:
            raise ValueError(
                f"model_type {model_type!r} is not supported; supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
            )
        fixed = _FIXED_BIASES.get(model_type, {})
        data = dict(data)
        for key in ("qkv_bias", "o_bias", "mlp_bias"):
            if key in fixed:
                data[key] = fixed[key]
            elif data.get(key) is None:
                data[key] = False
        return data

    @property
    def is_moe(self) -> bool:
        return self.num_local_experts > 1

    # ---- exact counts (see estimator.params for each formula) -----------------------------------
    def linear_modules(self) -> list[LinearModule]:
        """The linear layers of one decoder layer, named as peft targets them."""
        from estimator import params

        return params.linear_modules(self)

    def embedding_params(self) -> int:
        """Input token embedding (+ learned position embedding for gpt2)."""
        from estimator import params

        return params.embedding_params(self)

    def lm_head_params(self) -> int:
        """Output projection; 0 when tied to the input embedding."""
        from estimator import params

        return params.lm_head_params(self)

    def layer_params(self) -> int:
        """One decoder layer: linear weights and biases plus its norms."""
        from estimator import params

        return params.layer_params(self)

    def norm_params(self) -> int:
        """All normalisation weights (and biases) in the model: every layer's norms plus the final norm."""
        from estimator import params

        return params.norm_params(self)

    def param_count(self) -> int:
        """Total unique parameters, equal to transformers' `sum(p.numel() for p in model.parameters())`."""
        from estimator import params

        return params.param_count(self)

    def active_params(self) -> int:
        """Parameters each token goes through (MoE: only the top-k experts); = param_count() when dense."""
        from estimator import params

        return params.active_params(self)

    def resolve_targets(self, targets: str | list[str]) -> list[str]:
        """`all-linear`, `attention`, or module names (list or comma-separated) -> peft target names."""
        from estimator import params

        return params.resolve_targets(self, targets)

    def targeted_modules(self, targets: str | list[str]) -> list[LinearModule]:
        """The `LinearModule`s that `targets` selects."""
        from estimator import params

        return params.targeted_modules(self, targets)

    def lora_params(self, rank: int, targets: str | list[str] = "all-linear") -> int:
        """Trainable LoRA parameters for `rank` on `targets`, equal to peft's count."""
        from estimator import params

        return params.lora_params(self, rank, targets)

    def to_hf_config(self) -> dict:
        """A minimal config.json dict transformers can instantiate with the same parameter count."""
        from estimator import params

        return params.to_hf_config(self)
