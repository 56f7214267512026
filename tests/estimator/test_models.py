"""Resolving model names: config paths, the catalog, sizes, hub ids; the errors; `ftadvisor models`."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from estimator import ModelSpec, list_models, load_model_spec
from estimator.errors import EstimatorError
from estimator.model_catalog import CATALOG_DIR, _index, normalize

LLAMA_8B = "meta-llama/Llama-3.1-8B"


def _write_config(folder: Path, **changes) -> Path:
    config = json.loads((CATALOG_DIR / "meta-llama--Llama-3.1-8B.json").read_text()) | changes
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if v is not None}))
    return path


@pytest.mark.parametrize("row", _index(), ids=lambda row: row["id"])
def test_catalog_row_is_complete(row):
    config = json.loads((CATALOG_DIR / row["file"]).read_text())
    assert row["file"] == row["id"].replace("/", "--") + ".json"
    assert row["source"] == f"https://huggingface.co/{row['id']}/blob/main/config.json"
    assert config["model_type"] in ("llama", "mistral", "mixtral", "qwen2", "gemma2", "phi3", "gpt2")
    assert "auto_map" not in config  # instantiable without remote code
    spec = load_model_spec(row["id"])
    assert spec.source == "catalog" and spec.catalog_id == row["id"] and not spec.approximate
    for alias in row["aliases"]:
        assert load_model_spec(alias).catalog_id == row["id"], alias


def test_catalog_names_never_collide():
    seen = {}
    for row in _index():
        for name in {normalize(n) for n in (row["id"], row["id"].split("/")[-1], *row["aliases"])}:
            assert seen.setdefault(name, row["id"]) == row["id"], f"{name} names two entries"
    assert len(list(CATALOG_DIR.glob("*--*.json"))) == len(_index())


@pytest.mark.parametrize("name", ["llama-3.1-8b", "Llama 3.1 8B", "LLAMA_3.1_8b", "meta-llama/llama-3.1-8b",
                                  "Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct", " llama3.1-8b "])
def test_names_match_loosely(name):
    spec = load_model_spec(name)
    assert spec.catalog_id == LLAMA_8B
    assert spec.param_count() == 8_030_261_248


def test_required_models_are_in_the_catalog():
    for name in ["llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b",
                 "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-7b", "llama-13b", "llama-33b", "llama-65b",
                 "mistral-7b-v0.3", "mixtral-8x7b", "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-7b", "qwen2.5-14b",
                 "qwen2.5-32b", "qwen2.5-72b", "gemma-2-2b", "gemma-2-9b", "gemma-2-27b", "phi-3-mini",
                 "phi-3-medium", "gpt2"]:
        assert load_model_spec(name).source == "catalog"


def test_published_parameter_counts():
    # The sizes the model cards state, a check that the catalog copied the real configs.
    expected = {"llama-3.2-1b": 1_235_814_400, "llama-2-7b": 6_738_415_616, "mistral-7b": 7_248_023_552,
                "mixtral-8x7b": 46_702_792_704, "qwen2.5-7b": 7_615_616_512, "gemma-2-2b": 2_614_341_888,
                "phi-3-mini": 3_821_079_552, "gpt2": 124_439_808, "llama-3.1-405b": 405_853_388_800}
    assert {name: load_model_spec(name).param_count() for name in expected} == expected


def test_gemma2_keeps_its_head_dim_and_tied_embeddings():
    spec = load_model_spec("gemma-2-9b")
    assert spec.head_dim == 256 != spec.hidden_size // spec.num_attention_heads
    assert spec.tie_word_embeddings and spec.lm_head_params() == 0
    assert load_model_spec("qwen2.5-0.5b").qkv_bias and not load_model_spec("qwen2.5-0.5b").o_bias


def test_config_file_and_folder(tmp_path):
    path = _write_config(tmp_path / "my-model")
    by_file = load_model_spec(path)
    by_folder = load_model_spec(str(tmp_path / "my-model"))
    assert by_file.source == by_folder.source == "config"
    assert by_file.param_count() == by_folder.param_count() == 8_030_261_248


def test_config_defaults_follow_transformers(tmp_path):
    # No num_key_value_heads / head_dim / tie_word_embeddings: llama's defaults (heads, H / heads, untied).
    path = _write_config(tmp_path, num_key_value_heads=None, tie_word_embeddings=None, model_type=None)
    spec = load_model_spec(path)  # model_type comes from `architectures`
    assert (spec.model_type, spec.num_key_value_heads, spec.head_dim) == ("llama", 32, 128)
    assert not spec.tie_word_embeddings


def test_missing_field_is_named_with_the_file(tmp_path):
    path = _write_config(tmp_path, intermediate_size=None, vocab_size=None)
    with pytest.raises(EstimatorError, match=r"config\.json: missing field\(s\) vocab_size, intermediate_size"):
        load_model_spec(path)
    with pytest.raises(EstimatorError, match=re.escape(str(path))):
        load_model_spec(path)


def test_bad_configs_are_clear_errors(tmp_path):
    with pytest.raises(EstimatorError, match="model_type 'falcon' is not supported"):
        load_model_spec(_write_config(tmp_path / "a", model_type="falcon", architectures=None))
    with pytest.raises(EstimatorError, match="hidden_size"):
        load_model_spec(_write_config(tmp_path / "b", hidden_size=0))
    (tmp_path / "c").mkdir()
    with pytest.raises(EstimatorError, match="without a config.json"):
        load_model_spec(tmp_path / "c")
    with pytest.raises(EstimatorError, match="no such file"):
        load_model_spec(str(tmp_path / "missing.json"))
    (tmp_path / "d.json").write_text("{not json")
    with pytest.raises(EstimatorError, match="not a readable config.json"):
        load_model_spec(tmp_path / "d.json")


@pytest.mark.parametrize("field,value,bound", [("hidden_size", 1e30, "131,072"), ("vocab_size", 10**9, "2,097,152"),
                                               ("num_hidden_layers", 100_000, "1,024")])
def test_absurd_config_sizes_are_refused_naming_field_and_bound(tmp_path, field, value, bound):
    with pytest.raises(EstimatorError, match=rf"{field}: must be at most {bound} .*, got") as err:
        load_model_spec(_write_config(tmp_path, **{field: value}))
    assert len(str(err.value).splitlines()) == 1


def test_a_device_file_is_not_taken_for_a_folder():
    with pytest.raises(EstimatorError, match="/dev/zero is not a regular file"):
        load_model_spec("/dev/zero")


def test_unknown_name_lists_close_catalog_names():
    with pytest.raises(EstimatorError, match=r"unknown model 'lama-3.1-8b'; close catalog names: llama-3\.1-8b"):
        load_model_spec("lama-3.1-8b")
    with pytest.raises(EstimatorError, match="close catalog names: qwen2.5-0.5b"):
        load_model_spec("qwen")


def test_offline_hub_id_asks_for_a_local_config():
    # tests/conftest.py sets HF_HUB_OFFLINE=1.
    with pytest.raises(EstimatorError, match="HF_HUB_OFFLINE is set.*pass a local config.json"):
        load_model_spec("some-org/some-private-model")


def test_offline_hub_id_falls_back_to_the_catalog_by_repo_name():
    spec = load_model_spec("unsloth/Llama-3.2-1B")
    assert spec.catalog_id == "meta-llama/Llama-3.2-1B" and spec.source == "catalog"
    assert "used catalog meta-llama/Llama-3.2-1B" in spec.note


def test_online_hub_id_fetches_only_config_json(tmp_path, monkeypatch):
    import huggingface_hub

    path = _write_config(tmp_path)
    calls = []

    def fake_download(repo_id, filename, **kwargs):
        calls.append((repo_id, filename, kwargs.get("local_files_only", False)))
        return str(path)

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    spec = load_model_spec("someone/fine-tuned-llama")
    assert spec.source == "hub" and spec.param_count() == 8_030_261_248
    assert calls == [("someone/fine-tuned-llama", "config.json", True)]


@pytest.mark.parametrize("size,expected", [("7b", 7e9), ("0.5b", 0.5e9), ("70B", 70e9), ("13 b", 13e9),
                                           ("350m", 350e6), ("405b", 405e9)])
def test_bare_size_is_an_approximate_llama_shape(size, expected):
    spec = load_model_spec(size)
    assert spec.approximate and spec.source == "size" and spec.model_type == "llama"
    assert abs(spec.param_count() / expected - 1) < 0.02
    assert spec.num_attention_heads * spec.head_dim == spec.hidden_size


def test_size_out_of_range():
    with pytest.raises(EstimatorError, match="out of range"):
        load_model_spec("5000b")


def test_spec_copies_are_independent():
    a = load_model_spec("gpt2")
    a.vocab_size = 10
    assert load_model_spec("gpt2").vocab_size == 50257


def test_modelspec_built_directly_fills_biases():
    spec = ModelSpec(name="x", source="size", model_type="qwen2", vocab_size=10, hidden_size=8,
                     intermediate_size=16, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                     head_dim=4, max_position_embeddings=32, tie_word_embeddings=True)
    assert spec.qkv_bias is True and spec.o_bias is False and spec.mlp_bias is False
    with pytest.raises(ValueError, match="not supported"):
        ModelSpec(**(spec.model_dump() | {"model_type": "bert"}))


def test_list_models():
    entries = list_models()
    assert [e.id for e in entries] == [row["id"] for row in _index()]
    by_id = {e.id: e for e in entries}
    assert by_id[LLAMA_8B].params_total == 8_030_261_248
    assert by_id["mistralai/Mixtral-8x7B-v0.1"].architecture == "mixtral"
    assert "llama-3.1-8b" in by_id[LLAMA_8B].aliases


def test_cli_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "aliases", "params_total", "architecture", "source"} <= set(rows[0])
    assert len(rows) == len(_index())


def test_cli_models_table_and_show(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"meta-llama/Llama-3\.1-8B\s+8\.03\s+llama\s+llama-3\.1-8b", out)
    assert main(["models", "llama-3.1-8b"]) == 0
    out = capsys.readouterr().out
    assert "8,030,261,248 total" in out and "41,943,040 trainable" in out
    assert main(["models", "gpt2", "--json", "--targets", "attention", "--rank", "8"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["lora_targets"] == ["c_attn", "attn.c_proj"] and shown["params_total"] == 124_439_808


def test_cli_models_unknown_exits_2(capsys):
    assert main(["models", "lama-3.1-8b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ftadvisor models: error: model: unknown model") and "llama-3.1-8b" in err


def test_import_estimator_loads_no_heavy_library():
    code = ("import sys, estimator; estimator.load_model_spec('llama-3.1-8b').lora_params(16, 'all-linear'); "
            "estimator.list_models(); "
            "print([m for m in ('torch', 'transformers', 'peft', 'huggingface_hub') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"
