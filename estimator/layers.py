"""The linear layers of one decoder layer, architecture by architecture (transformers 5.23 modeling
files, `models/<type>/modeling_<type>.py`), named as peft 0.21 targets them. Pure arithmetic.

Shapes per decoder layer (H hidden, I intermediate, n/k query/key-value heads, d head_dim):
  llama, mistral, qwen2, gemma2   q_proj H->n*d, k_proj/v_proj H->k*d, o_proj n*d->H,
                                  gate_proj/up_proj H->I, down_proj I->H
  phi3                            qkv_proj H->(n+2k)*d (fused), o_proj, gate_up_proj H->2I (fused), down_proj
  mixtral                         attention as llama; router `gate` H->E; E experts of w1/w3 H->I, w2 I->H
  gpt2                            Conv1D c_attn H->3H, attn.c_proj H->H, c_fc H->I, mlp.c_proj I->H (all biased)
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

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
    path: str = Field("", description="Path inside the decoder layer, e.g. self_attn.q_proj, attn.c_proj.")

    @property
    def weight_params(self) -> int:
        """Weights of all instances (in x out each)."""
        return self.in_features * self.out_features * self.instances

    @property
    def params(self) -> int:
        """Weights plus biases of all instances."""
        return (self.in_features + self.bias) * self.out_features * self.instances


class LayerShape(NamedTuple):
    """What decides a decoder layer's linears (hashable, for the cache)."""

    model_type: str
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    experts: int
    experts_per_token: int
    qkv_bias: bool
    o_bias: bool
    mlp_bias: bool


def _lin(name, fan_in, fan_out, path, bias=False, attention=False, instances=1, active=1) -> LinearModule:
    return LinearModule(name=name, in_features=fan_in, out_features=fan_out, bias=bias, attention=attention,
                        instances=instances, active_instances=active, path=path)


@lru_cache(maxsize=512)
def decoder_linears(shape: LayerShape) -> tuple[LinearModule, ...]:
    """The linear layers of one decoder layer, in the order transformers builds them."""
    s = shape
    h, i = s.hidden, s.intermediate
    q_out, kv_out = s.heads * s.head_dim, s.kv_heads * s.head_dim
    if s.model_type == "gpt2":  # Conv1D everywhere; head_dim is H / heads so attention works on H.
        return (
            _lin("c_attn", h, 3 * h, "attn.c_attn", bias=True, attention=True),
            _lin("c_proj", h, h, "attn.c_proj", bias=True, attention=True),
            _lin("c_fc", h, i, "mlp.c_fc", bias=True),
            _lin("c_proj", i, h, "mlp.c_proj", bias=True),
        )
    if s.model_type == "phi3":  # fused projections (modeling_phi3.py: qkv_proj, gate_up_proj)
        return (
            _lin("qkv_proj", h, q_out + 2 * kv_out, "self_attn.qkv_proj", attention=True),
            _lin("o_proj", q_out, h, "self_attn.o_proj", attention=True),
            _lin("gate_up_proj", h, 2 * i, "mlp.gate_up_proj"),
            _lin("down_proj", i, h, "mlp.down_proj"),
        )
    attn = (
        _lin("q_proj", h, q_out, "self_attn.q_proj", bias=s.qkv_bias, attention=True),
        _lin("k_proj", h, kv_out, "self_attn.k_proj", bias=s.qkv_bias, attention=True),
        _lin("v_proj", h, kv_out, "self_attn.v_proj", bias=s.qkv_bias, attention=True),
        _lin("o_proj", q_out, h, "self_attn.o_proj", bias=s.o_bias, attention=True),
    )
    if s.model_type == "mixtral":  # router + E experts (stored fused as 3-D parameters in transformers 5)
        e, k = s.experts, s.experts_per_token
        return attn + (
            _lin("gate", h, e, "mlp.gate"),
            _lin("w1", h, i, "mlp.experts.w1", instances=e, active=k),
            _lin("w2", i, h, "mlp.experts.w2", instances=e, active=k),
            _lin("w3", h, i, "mlp.experts.w3", instances=e, active=k),
        )
    return attn + (
        _lin("gate_proj", h, i, "mlp.gate_proj", bias=s.mlp_bias),
        _lin("up_proj", h, i, "mlp.up_proj", bias=s.mlp_bias),
        _lin("down_proj", i, h, "mlp.down_proj", bias=s.mlp_bias),
    )
