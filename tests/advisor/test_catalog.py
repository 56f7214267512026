"""advisor.catalog: loose GPU and model names, instruct releases, hub ids to load, students and
longer-context models, and a GPU cache that sees an edited catalog."""
import json

import pytest

from advisor import catalog


@pytest.mark.parametrize("name,instruct", [
    ("llama-3.1-8b", False), ("llama-3.1-8b-instruct", True), ("meta-llama/Llama-3.1-8B-Instruct", True),
    ("gemma-2-9b-it", True), ("llama-2-7b-chat", True), ("phi-3-mini", False), ("8b", False),
])
def test_instruct_releases_are_told_apart(name, instruct):
    assert catalog.is_instruct(name) is instruct


def test_the_model_a_command_loads():
    assert catalog.runnable_model("llama-3.1-8b") == "meta-llama/Llama-3.1-8B"
    assert catalog.runnable_model("llama-3.1-8b-instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    assert catalog.runnable_model("Qwen/Qwen2.5-7B") == "Qwen/Qwen2.5-7B"
    assert catalog.runnable_model("8b") == "8b"
    assert catalog.instruct_variant("llama-3.1-8b") == "llama-3.1-8b-instruct"
    assert catalog.instruct_variant("llama-3.1-8b-instruct") is None


@pytest.mark.parametrize("teacher,student", [
    ("llama-3.1-70b", "llama-3.1-8b"), ("llama-3.1-8b", "llama-3.2-1b"), ("qwen2.5-72b", "qwen2.5-14b"),
    ("llama-3.2-3b", None), ("70b", "14b"),
])
def test_a_student_is_at_least_four_times_smaller_and_of_the_same_line(teacher, student):
    assert catalog.student_model(teacher) == student


def test_smaller_models_and_longer_contexts():
    assert catalog.smaller_models("llama-3.1-70b")[:3] == ["llama-3.1-8b", "llama-3.2-3b", "llama-3.2-1b"]
    assert catalog.smaller_models("llama-3.1-8b")[:3] == ["llama-3.2-3b", "llama-3.2-1b", "llama-2-7b"]
    longer = catalog.long_context_models(16_384, "llama-2-7b")
    assert longer and all(catalog.context_window(m) >= 16_384 for m in longer)


def test_the_gpu_cache_sees_an_edited_catalog(tmp_path, monkeypatch):
    from estimator.gpus import DEFAULT_CATALOG

    data = json.loads(DEFAULT_CATALOG.read_text())
    path = tmp_path / "gpus.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(path))
    monkeypatch.setattr(catalog, "MTIME_RECHECK_S", 0.0)
    with pytest.raises(ValueError, match="unknown GPU"):
        catalog.canonical_gpu("Lab Card 96GB")
    data["gpus"][0] = {**data["gpus"][0], "name": "Lab Card 96GB", "aliases": []}
    path.write_text(json.dumps(data))
    import os

    os.utime(path, (1, 1))  # a different mtime, whatever the file system's resolution
    assert catalog.canonical_gpu("lab-card-96gb") == "Lab Card 96GB"
