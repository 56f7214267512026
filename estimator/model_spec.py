"""The shape of a model, as far as memory, parameter and FLOP counts need it.

Built from a Hugging Face config.json (see `estimator.models.load_model_spec`). Counts are exact:
they must equal the transformers model built from the same config on the meta device.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
