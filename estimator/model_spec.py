"""The shape of a model, as far as memory, parameter and FLOP counts need it, and its exact counts.

Built from a Hugging Face config.json (see `estimator.model_catalog.load_model_spec`). Counts are
exact: they must equal the transformers 5.23 model built from the same config on the meta device,
and peft 0.21's trainable LoRA parameters (`tests/estimator/test_params.py` checks both).
Norms: RMSNorm weight H (two per layer; gemma2 four: pre/post attention and pre/post feed-forward);
gpt2 LayerNorm weight+bias 2H (two per layer); one final norm.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from estimator import lora_targets
from estimator.layers import LayerShape, LinearModule, decoder_linears

# Architectures whose parameter layout `estimator.layers` knows exactly (transformers 5 modeling files).
SUPPORTED_MODEL_TYPES = ("llama", "mistral", "mixtral", "qwen2", "gemma2", "phi3", "gpt2")

# Upper bounds on config sizes: about 8x the largest released model's (Llama 3.1 405B: hidden
# 16384, intermediate 53248, 126 layers, 128 heads; Gemma 3: vocabulary 262144; Llama 4 Scout:
# 10M positions; DeepSeek-V3: 256 experts). Beyond them a config is a typo, not a model.
SIZE_BOUNDS: dict[str, int] = {
    "vocab_size": 2_097_152, "hidden_size": 131_072, "intermediate_size": 524_288, "num_hidden_layers": 1_024,
    "num_attention_heads": 1_024, "num_key_value_heads": 1_024, "head_dim": 4_096,
    "max_position_embeddings": 134_217_728, "num_local_experts": 4_096, "num_experts_per_tok": 4_096,
}

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


class _Counts(NamedTuple):
    embedding: int
    lm_head: int
    layer: int
    norm: int
    total: int
    active: int


@lru_cache(maxsize=512)
def _counts(shape: LayerShape, vocab: int, layers: int, positions: int, tied: bool) -> _Counts:
    """Every count of a shape, once (an estimate asks for them many times)."""
    gpt2 = shape.model_type == "gpt2"
    per_norm = 2 * shape.hidden if gpt2 else shape.hidden  # LayerNorm has weight and bias; RMSNorm a weight
    norms_per_layer = 4 if shape.model_type == "gemma2" else 2
    linears = decoder_linears(shape)
    embedding = (vocab + (positions if gpt2 else 0)) * shape.hidden  # + gpt2's learned positions
    lm_head = 0 if tied else vocab * shape.hidden
    layer = sum(m.params for m in linears) + norms_per_layer * per_norm
    total = embedding + layers * layer + per_norm + lm_head
    idle = sum(m.params // m.instances * (m.instances - m.active_instances) for m in linears)
    return _Counts(embedding, lm_head, layer, (layers * norms_per_layer + 1) * per_norm, total, total - layers * idle)


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Catalog id, hub id, config path, or size such as 7b.")
    source: Literal["catalog", "config", "hub", "size"]
    approximate: bool = Field(False, description="True for a bare size: a representative shape.")
    model_type: str = Field(description="config.json model_type: llama, mistral, mixtral, qwen2, gemma2, phi3, gpt2.")
    vocab_size: int = Field(ge=1, le=SIZE_BOUNDS["vocab_size"])
    hidden_size: int = Field(ge=1, le=SIZE_BOUNDS["hidden_size"])
    intermediate_size: int = Field(ge=1, le=SIZE_BOUNDS["intermediate_size"])
    num_hidden_layers: int = Field(ge=1, le=SIZE_BOUNDS["num_hidden_layers"])
    num_attention_heads: int = Field(ge=1, le=SIZE_BOUNDS["num_attention_heads"])
    num_key_value_heads: int = Field(ge=1, le=SIZE_BOUNDS["num_key_value_heads"])
    head_dim: int = Field(ge=1, le=SIZE_BOUNDS["head_dim"])
    max_position_embeddings: int = Field(ge=1, le=SIZE_BOUNDS["max_position_embeddings"])
    tie_word_embeddings: bool
    num_local_experts: int = Field(
        1, ge=1, le=SIZE_BOUNDS["num_local_experts"], description="MoE experts per layer; 1 for dense models."
    )
    num_experts_per_tok: int = Field(1, ge=1, le=SIZE_BOUNDS["num_experts_per_tok"])
    qkv_bias: bool | None = Field(None, description="q/k/v projections have biases (None: the architecture's default).")
    o_bias: bool | None = Field(
        None, description="Attention output projection has a bias (None: architecture default)."
    )
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

    # ---- the decoder layer -----------------------------------------------------------------------
    def layer_shape(self) -> LayerShape:
        return LayerShape(
            self.model_type, self.hidden_size, self.intermediate_size, self.num_attention_heads,
            self.num_key_value_heads, self.head_dim, self.num_local_experts, self.num_experts_per_tok,
            bool(self.qkv_bias), bool(self.o_bias), bool(self.mlp_bias),
        )

    def linear_modules(self) -> list[LinearModule]:
        """The linear layers of one decoder layer, named as peft targets them."""
        return list(decoder_linears(self.layer_shape()))

    def _counts(self) -> _Counts:
        return _counts(self.layer_shape(), self.vocab_size, self.num_hidden_layers, self.max_position_embeddings,
                       self.tie_word_embeddings)

    # ---- exact counts ----------------------------------------------------------------------------
    def embedding_params(self) -> int:
        """Token embedding V x H, plus gpt2's learned position embedding P x H."""
        return self._counts().embedding

    def lm_head_params(self) -> int:
        """Output projection H x V without bias; 0 when tied to the input embedding (counted once)."""
        return self._counts().lm_head

    def layer_params(self) -> int:
        """One decoder layer: every linear (all experts) with its bias, plus the layer's norms."""
        return self._counts().layer

    def norm_params(self) -> int:
        """All normalisation weights (and biases): every layer's norms plus the final norm."""
        return self._counts().norm

    def param_count(self) -> int:
        """Total unique parameters, equal to transformers' `sum(p.numel() for p in model.parameters())`."""
        return self._counts().total

    def active_params(self) -> int:
        """Parameters each token goes through (MoE: only the top-k experts); = param_count() when dense."""
        return self._counts().active

    # ---- LoRA ------------------------------------------------------------------------------------
    def targeted_modules(self, targets: str | list[str]) -> list[LinearModule]:
        """The `LinearModule`s that `targets` (all-linear, attention or module names) selects."""
        return lora_targets.select(decoder_linears(self.layer_shape()), self.model_type, targets)

    def resolve_targets(self, targets: str | list[str]) -> list[str]:
        """`all-linear`, `attention`, or module names (list or comma-separated) -> peft target names."""
        modules = decoder_linears(self.layer_shape())
        return [lora_targets.target_name(m, modules) for m in self.targeted_modules(targets)]

    def lora_params(self, rank: int, targets: str | list[str] = "all-linear") -> int:
        """Trainable LoRA parameters for `rank` on `targets`, equal to peft's count."""
        chosen = self.targeted_modules(targets)
        return lora_targets.lora_params_per_layer(chosen, self.model_type, rank) * self.num_hidden_layers

    def to_hf_config(self) -> dict:
        """A minimal config.json dict transformers instantiates with exactly this spec's parameter count."""
        if self.model_type == "gpt2":
            return {
                "model_type": "gpt2", "vocab_size": self.vocab_size, "n_embd": self.hidden_size,
                "n_layer": self.num_hidden_layers, "n_head": self.num_attention_heads,
                "n_positions": self.max_position_embeddings, "n_inner": self.intermediate_size,
                "tie_word_embeddings": self.tie_word_embeddings,
            }
        config = {
            "model_type": self.model_type, "vocab_size": self.vocab_size, "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size, "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads, "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim, "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
        }
        if self.model_type == "llama":
            config.update(attention_bias=bool(self.qkv_bias), mlp_bias=bool(self.mlp_bias))
        elif self.model_type == "gemma2":
            config["attention_bias"] = bool(self.qkv_bias)
        elif self.model_type == "mixtral":
            config.update(num_local_experts=self.num_local_experts, num_experts_per_tok=self.num_experts_per_tok)
        return config
