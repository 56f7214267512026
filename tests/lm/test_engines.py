"""The engine choice: auto takes OpenVINO on a CPU when the model converts, else transformers and
says why once; openvino asked for where it cannot run is one line."""
import json
import logging
import shutil

import pytest

from lm import engines
from lm.engines import choose_engine
from lm.errors import ModelError


@pytest.fixture
def qwen_like(tiny_model_dir, tmp_path):
    """A folder whose config names an architecture the GGUF writer does not build."""
    folder = tmp_path / "qwen-like"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "qwen2",
                                                    "architectures": ["Qwen2ForCausalLM"]}))
    return folder


@pytest.fixture(autouse=True)
def _forget_what_was_said(monkeypatch):
    monkeypatch.setattr(engines, "_said", set())


def test_auto_takes_openvino_on_a_cpu_for_a_model_that_converts(tiny_model_dir):
    assert choose_engine("auto", str(tiny_model_dir), device="cpu") == "openvino"
    assert choose_engine("transformers", str(tiny_model_dir)) == "transformers"
    assert choose_engine("openvino", str(tiny_model_dir)) == "openvino"


@pytest.mark.parametrize("kwargs, reason", [
    ({"quant": "nf4"}, "a QLoRA adapter answers on its 4-bit NF4 base"),
    ({"dtype": "bfloat16"}, "dtype bfloat16 was asked for"),
])
def test_auto_falls_back_to_transformers_and_says_why_once(tiny_model_dir, kwargs, reason, caplog):
    with caplog.at_level(logging.WARNING, logger="lm.engines"):
        for _ in range(2):
            assert choose_engine("auto", str(tiny_model_dir), device="cpu", **kwargs) == "transformers"
    [record] = caplog.records  # said once for two loads
    assert record.getMessage().startswith(f"engine auto: transformers answers, not OpenVINO: {reason}")


def test_auto_falls_back_for_an_architecture_that_does_not_convert(qwen_like, caplog):
    with caplog.at_level(logging.WARNING, logger="lm.engines"):
        assert choose_engine("auto", str(qwen_like), device="cpu") == "transformers"
    [record] = caplog.records
    assert record.getMessage() == ("engine auto: transformers answers, not OpenVINO: qwen-like: its architecture is "
                                   "Qwen2ForCausalLM (model_type qwen2); only LlamaForCausalLM converts, so it does "
                                   "not convert to a GGUF")


@pytest.mark.parametrize("engine, kwargs, expected", [
    ("openvino", {"device": "cuda"}, "engine openvino runs on the CPU"),
    ("openvino", {"quant": "nf4"}, "engine openvino: a QLoRA adapter answers on its 4-bit NF4 base"),
    ("fast", {}, "engine: 'fast' is not one of auto, transformers, openvino"),
])
def test_what_cannot_be_done_is_one_line(tiny_model_dir, engine, kwargs, expected):
    with pytest.raises(ModelError) as err:
        choose_engine(engine, str(tiny_model_dir), **kwargs)
    assert str(err.value).startswith(expected) and "\n" not in str(err.value)


def test_openvino_for_a_model_that_does_not_convert_names_the_reason(qwen_like):
    with pytest.raises(ModelError, match="engine openvino: qwen-like: its architecture is Qwen2ForCausalLM"):
        choose_engine("openvino", str(qwen_like))
