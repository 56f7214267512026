"""The RAG prompt: numbered passages with sources, fitted to the model's context."""
from __future__ import annotations

import pytest

from rag_baseline.answer import build_rag_prompt, generate_answers_for, load_generator
from rag_baseline.errors import RagError
from rag_baseline.schemas import SearchHit


def _hit(rank: int, text: str) -> SearchHit:
    return SearchHit(rank=rank, score=1 - rank / 10, source=f"/docs/{rank}.md", text=text, position=0, id=str(rank))


def test_prompt_numbers_passages_with_their_sources():
    prompt = build_rag_prompt("Why?", [_hit(1, "Because."), _hit(2, "Also this.")])
    assert "[1] (source: 1.md)\nBecause." in prompt and "[2] (source: 2.md)" in prompt
    assert "/docs" not in prompt  # a document is named by its file name, never a path of this machine
    assert prompt.endswith("Question: Why?")


def test_long_passages_are_fitted_to_the_context_and_the_question_kept(tiny_model_dir):
    hits = [_hit(n, f"passage {n} " + "lorem ipsum dolor sit amet " * 80) for n in range(1, 5)]
    [(text, prompt, used, timings)] = generate_answers_for(str(tiny_model_dir), ["What is lorem?"], [hits],
                                                           max_new_tokens=8)
    lm, _ = load_generator(str(tiny_model_dir))
    assert timings.prompt_tokens + 8 <= lm.config.max_position_embeddings  # 512 for the tiny model
    assert 1 <= len(used) < len(hits) and used[0].source == "/docs/1.md"
    assert prompt.endswith("Question: What is lorem?") and timings.new_tokens <= 8


def test_a_model_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(RagError, match="cannot load the model"):
        load_generator(str(tmp_path / "no-such-model"))
