"""Exact counts: every catalog model against transformers on the meta device, LoRA against peft."""
import warnings

import pytest

from estimator.errors import EstimatorError
from estimator.model_catalog import _index, load_model_spec, spec_from_config

CATALOG_IDS = [row["id"] for row in _index()]

pytestmark = pytest.mark.slow


def _meta_model(config: dict):
    """The transformers model of a config.json dict, built on the meta device (no memory, ~0.1 s)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = dict(config)
    model_type = config.pop("model_type")
    # `with torch.device("meta")` ties embeddings like a real load does (init_empty_weights does not).
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **config))


def _numel(module) -> int:
    return sum(p.numel() for p in module.parameters())  # unique parameters: tied ones once


def _decoder_layers(model):
    return model.transformer.h if model.config.model_type == "gpt2" else model.model.layers


@pytest.mark.parametrize("model_id", CATALOG_IDS)
def test_counts_equal_transformers_on_meta(model_id, catalog_config):
    spec = load_model_spec(model_id)
    model = _meta_model(catalog_config(model_id))
    assert spec.param_count() == _numel(model)
    assert spec.layer_params() == _numel(_decoder_layers(model)[0])
    assert spec.embedding_params() == sum(
        _numel(m) for m in (model.get_input_embeddings(), getattr(model.transformer, "wpe", None)
                            if spec.model_type == "gpt2" else None) if m is not None
    )
    tied = model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert spec.tie_word_embeddings == tied
    assert spec.lm_head_params() == (0 if tied else _numel(model.get_output_embeddings()))
    norms = sum(p.numel() for n, p in model.named_parameters() if "norm" in n or ".ln_" in n)
    assert spec.norm_params() == norms


@pytest.mark.parametrize("model_id", ["meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-0.5B",
                                      "microsoft/Phi-3-mini-4k-instruct", "mistralai/Mixtral-8x7B-v0.1",
                                      "openai-community/gpt2", "google/gemma-2-2b"])
def test_linear_modules_match_the_layer_shapes(model_id, catalog_config):
    spec = load_model_spec(model_id)
    layer = _decoder_layers(_meta_model(catalog_config(model_id)))[0]
    for m in spec.linear_modules():
        if spec.model_type == "mixtral" and m.name in ("w1", "w2", "w3"):
            # transformers 5 stores the experts fused: gate_up_proj (E, 2I, H) = w1 and w3, down_proj (E, H, I) = w2.
            experts = layer.mlp.experts
            param = experts.down_proj if m.name == "w2" else experts.gate_up_proj
            assert param.shape[0] == m.instances
            assert param.shape[2] == m.in_features
            assert param.shape[1] == m.out_features * (1 if m.name == "w2" else 2)
            continue
        module = layer.get_submodule(m.path)
        weight = module.weight
        if spec.model_type == "gpt2":  # Conv1D stores (in, out)
            assert tuple(weight.shape) == (m.in_features, m.out_features)
        else:
            assert tuple(weight.shape) == (m.out_features, m.in_features)
        assert (getattr(module, "bias", None) is not None) == m.bias


def test_active_params_count_top_k_experts(catalog_config):
    spec = load_model_spec("mixtral-8x7b")
    layer = _decoder_layers(_meta_model(catalog_config("mixtral-8x7b")))[0]
    experts = _numel(layer.mlp.experts)
    idle = experts * (spec.num_local_experts - spec.num_experts_per_tok) // spec.num_local_experts
    assert spec.active_params() == spec.param_count() - spec.num_hidden_layers * idle
    assert spec.active_params() == 12_879_925_248  # Mistral's "12.9B active parameters"
    dense = load_model_spec("llama-3.1-8b")
    assert dense.active_params() == dense.param_count()


def _peft_count(config: dict, rank: int, targets) -> int:
    from peft import LoraConfig, get_peft_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = get_peft_model(_meta_model(config), LoraConfig(r=rank, target_modules=targets))
    return model.get_nb_trainable_parameters()[0]


# (catalog name, rank, targets, layers kept: the count is per layer x layers, so big models are cut
# to a few layers for speed; the spec is built from the same cut config)
LORA_CASES = [
    ("meta-llama/Llama-3.1-8B", 16, "all-linear", None),
    ("Qwen/Qwen2.5-0.5B", 8, "all-linear", None),
    ("Qwen/Qwen2.5-7B", 16, "attention", 4),
    ("microsoft/Phi-3-mini-4k-instruct", 16, "all-linear", 4),
    ("microsoft/Phi-3-mini-4k-instruct", 8, ["qkv_proj", "down_proj"], 4),
    ("mistralai/Mixtral-8x7B-v0.1", 16, "all-linear", 2),
    ("mistralai/Mixtral-8x7B-v0.1", 8, ["w1", "w3", "q_proj", "gate"], 2),
    ("mistralai/Mixtral-8x7B-v0.1", 4, ["w2"], 2),
    ("openai-community/gpt2", 8, "all-linear", None),
    ("openai-community/gpt2", 4, ["c_proj"], None),
    ("openai-community/gpt2", 4, "attention", None),
    ("google/gemma-2-2b", 16, "all-linear", 4),
    ("google/gemma-2-9b", 32, ["q_proj", "v_proj"], 4),
]


@pytest.mark.parametrize("model_id,rank,targets,layers", LORA_CASES)
def test_lora_params_equal_peft(model_id, rank, targets, layers, catalog_config):
    config = catalog_config(model_id)
    if layers:
        config["num_hidden_layers" if "num_hidden_layers" in config else "n_layer"] = layers
    spec = spec_from_config(config, name=model_id, source="config")
    # peft gets the names resolve_targets gives (all-linear is passed as is, to check peft's own choice).
    peft_targets = targets if targets == "all-linear" else spec.resolve_targets(targets)
    assert spec.lora_params(rank, targets) == _peft_count(config, rank, peft_targets)


def test_llama_31_8b_lora_r16_all_linear_is_41943040():
    spec = load_model_spec("meta-llama/Llama-3.1-8B")
    assert spec.param_count() == 8_030_261_248
    assert spec.lora_params(16, "all-linear") == 41_943_040
    names = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert spec.resolve_targets("all-linear") == names
    assert spec.lora_params(16, names) == 41_943_040
    assert spec.lora_params(16, ",".join(names)) == 41_943_040


def test_target_sets_per_architecture():
    assert load_model_spec("phi-3-mini").resolve_targets("attention") == ["qkv_proj", "o_proj"]
    assert load_model_spec("gpt2").resolve_targets("attention") == ["c_attn", "attn.c_proj"]
    assert load_model_spec("gpt2").resolve_targets("c_proj") == ["attn.c_proj", "mlp.c_proj"]
    assert load_model_spec("mixtral-8x7b").resolve_targets("all-linear") == [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate", "w1", "w2", "w3"]
    assert load_model_spec("llama-2-7b").resolve_targets(["self_attn.q_proj", "v_proj"]) == ["q_proj", "v_proj"]


def test_unknown_target_lists_valid_ones():
    with pytest.raises(EstimatorError, match=r"qkv_proj is not a linear module of llama.*q_proj, k_proj"):
        load_model_spec("llama-3.1-8b").lora_params(16, ["q_proj", "qkv_proj"])
    with pytest.raises(EstimatorError, match="cannot be combined"):
        load_model_spec("llama-3.1-8b").resolve_targets(["all-linear", "q_proj"])


def test_mixtral_w1_without_w3_is_refused_like_peft(catalog_config):
    config = dict(catalog_config("mixtral-8x7b"), num_hidden_layers=1)
    with pytest.raises(EstimatorError, match="w1 and w3 are one fused gate_up_proj"):
        spec_from_config(config, name="m", source="config").lora_params(8, ["w1"])
    with pytest.raises(ValueError, match="fused"):
        _peft_count(config, 8, ["w1"])


@pytest.mark.parametrize("rank", [0, -4, 2.5, True])
def test_bad_rank_is_an_error(rank):
    with pytest.raises(EstimatorError, match="lora_rank"):
        load_model_spec("gpt2").lora_params(rank, "all-linear")


@pytest.mark.parametrize("size", ["0.5b", "7b", "70B"])
def test_size_spec_instantiates_with_the_same_count(size):
    spec = load_model_spec(size)
    assert spec.param_count() == _numel(_meta_model(spec.to_hf_config()))


def test_to_hf_config_round_trips_every_architecture():
    for name in ("gpt2", "phi-3-mini", "mixtral-8x7b", "gemma-2-2b", "qwen2.5-0.5b"):
        spec = load_model_spec(name)
        assert spec.param_count() == _numel(_meta_model(spec.to_hf_config())), name
