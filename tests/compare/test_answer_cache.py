"""The answer cache's key: every generation setting, the engine, the adapter's files and the
request kind change it, the latency sample's size does not; a line cut by a kill is skipped."""
import os

import pytest

from compare.answer_cache import AnswerCache, model_identity
from compare.records import AnswerRecord
from compare.spec import GenerationSettings
from lm.generate import ModelChoice

RECORD = AnswerRecord(id=3, answer="Paris", latency_s=1.5, batch_size=4, prompt_tokens=20, new_tokens=3)


@pytest.fixture
def adapter(tmp_path):
    for name, file in (("base", "config.json"), ("adapter", "adapter_model.safetensors")):
        (tmp_path / name).mkdir()
        (tmp_path / name / file).write_bytes(b"weights")
    return tmp_path / "adapter"


def _cache(tmp_path, adapter, engine="openvino", seed=42, **settings) -> AnswerCache:
    choice = ModelChoice(str(tmp_path / "base"), str(adapter), "none", engine)
    return AnswerCache(tmp_path / "cache.jsonl", model_identity(choice),
                       GenerationSettings(**settings).model_dump(), seed)


def _key(tmp_path, adapter, **kwargs) -> str:
    return _cache(tmp_path, adapter, **kwargs).key("<|im_start|>user\nWhat is the capital of France?", "batch")


@pytest.mark.parametrize("change", [
    {"max_new_tokens": 65}, {"batch_size": 4}, {"greedy": False}, {"temperature": 0.8},
    {"system_prompt": "Be brief."}, {"engine": "transformers"}, {"seed": 1},
])
def test_a_changed_setting_misses(tmp_path, adapter, change):
    assert _key(tmp_path, adapter, **change) != _key(tmp_path, adapter)


def test_the_latency_sample_size_changes_no_answer(tmp_path, adapter):
    assert _key(tmp_path, adapter, latency_sample=7) == _key(tmp_path, adapter)


def test_a_retrained_adapter_misses(tmp_path, adapter):
    before = _key(tmp_path, adapter)
    weights = adapter / "adapter_model.safetensors"
    weights.write_bytes(b"trained")  # as many bytes as before
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later write, whatever the clock's grain
    assert _key(tmp_path, adapter) != before


def test_the_prompt_and_the_request_kind_are_in_the_key(tmp_path, adapter):
    cache = _cache(tmp_path, adapter)
    assert len({cache.key("a", "batch"), cache.key("b", "batch"), cache.key("a", "alone")}) == 3


def test_an_answer_put_is_found_by_a_later_cache_and_a_cut_line_is_skipped(tmp_path, adapter):
    first = _cache(tmp_path, adapter)
    first.put(first.key("q1", "batch"), RECORD)
    first.put(first.key("q2", "batch"), RECORD.model_copy(update={"answer": "Lyon"}))
    path = tmp_path / "cache.jsonl"
    path.write_bytes(path.read_bytes()[:-10])  # the second line cut by a kill
    again = _cache(tmp_path, adapter)
    assert again.get(again.key("q1", "batch"), 7) == RECORD.model_copy(update={"id": 7})
    assert again.get(again.key("q2", "batch"), 8) is None
    assert (again.hits, again.generated) == (1, 0)
    again.put(again.key("q2", "batch"), RECORD)
    assert len(path.read_text().splitlines()) == 2  # the cut line was cut off, not glued to
    assert again.generated == 1
