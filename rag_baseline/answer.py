"""Answers from retrieved chunks: a prompt that numbers the passages, generation with a causal
LM (hub id or local folder; the tiny offline model in tests), and the timings.

Generation goes through the shared model code (`lm.generate`: same loader, greedy, the chat
template when the tokenizer has one), so a hub id, a model folder or a tuning run all work.
The prompt is fitted to the model's context: the least relevant passages go first, then the
last passage is shortened, so the question is never cut off.
"""
from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from rag_baseline.errors import RagError
from rag_baseline.retrieve import DEFAULT_K, search
from rag_baseline.schemas import Answer, SearchHit, StoreConfig, Timings

# MiniLM cosine: unrelated text scores ~0.0-0.15, on-topic passages ~0.3 and up (sql-eval:
# median best score 0.38, lowest 0.13). Below this the documents are taken not to cover it.
DEFAULT_MIN_SCORE = 0.2
DEFAULT_MAX_NEW_TOKENS = 128
NOT_COVERED = "The documents do not cover this question."

INSTRUCTIONS = (
    "Answer the question using only the numbered passages below. Cite the passages you use "
    "as [1], [2], ... If the passages do not contain the answer, say that the documents do "
    "not cover it."
)


def build_rag_prompt(question: str, hits: list[SearchHit]) -> str:
    """The user prompt: instructions, the passages numbered with their sources, the question.
    A source is named by its file name, never by a path of this machine."""
    passages = "\n\n".join(
        f"[{n}] (source: {Path(hit.source).name})\n{hit.text.strip()}" for n, hit in enumerate(hits, start=1)
    )
    return f"{INSTRUCTIONS}\n\nPassages:\n{passages}\n\nQuestion: {question.strip()}"


@lru_cache(maxsize=2)
def load_generator(model: str, engine: str = "transformers"):
    """(model, tokenizer) loaded once per process by the shared loader (`lm.generate`): a hub id, a
    model folder, a PEFT adapter folder or a tuning run folder, run by `engine` (lm.engines). A bad
    one -> RagError."""
    from lm.generate import load_for_inference

    try:
        lm, tokenizer = load_for_inference(model, engine=engine)
    except (OSError, ValueError) as exc:
        raise RagError(f"cannot load the model {model!r} (a hub id, a model folder or a tuning run): {exc}") from None
    return lm, tokenizer


def _encode(tokenizer, prompt: str) -> list[int]:
    """Token ids exactly as `lm.generate` builds them (chat template text, no extra specials)."""
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer(prompt)["input_ids"]


def context_limit(tokenizer, lm) -> int:
    limit = getattr(lm.config, "max_position_embeddings", None) or 2048
    tok_limit = getattr(tokenizer, "model_max_length", None)
    return min(limit, tok_limit) if tok_limit and tok_limit < 10**8 else limit


def fit_prompt(
    question: str, hits: list[SearchHit], tokenizer, max_tokens: int
) -> tuple[str, list[SearchHit], list[int]]:
    """The longest prompt that fits: drop the last passages, then shorten the last one."""
    hits = list(hits)
    while True:
        prompt = build_rag_prompt(question, hits)
        ids = _encode(tokenizer, prompt)
        if len(ids) <= max_tokens:
            return prompt, hits, ids
        if len(hits) > 1:
            hits.pop()
            continue
        if not hits or len(hits[0].text) < 20:
            raise RagError(f"the question alone is longer than the model's context ({max_tokens} tokens)")
        keep = max(10, int(len(hits[0].text) * max_tokens / len(ids) * 0.9))
        hits[0] = hits[0].model_copy(update={"text": hits[0].text[:keep]})


def generate_answers_for(
    model: str,
    questions: list[str],
    hits_per_question: list[list[SearchHit]],
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    engine: str = "transformers",
) -> list[tuple[str, str, list[SearchHit], Timings]]:
    """(answer, prompt, hits used, timings) per question: prompts fitted to the model's context,
    then `lm.generate.generate_answers` (greedy, chat template), one prompt per call so each
    latency is that answer's own."""
    from lm.generate import generate_answers

    lm, tokenizer = load_generator(model, engine)
    max_prompt = context_limit(tokenizer, lm) - max_new_tokens
    if max_prompt < 16:
        raise RagError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt in the model's context")
    fitted = [fit_prompt(q, hits, tokenizer, max_prompt) for q, hits in zip(questions, hits_per_question, strict=True)]
    generations = generate_answers((lm, tokenizer), [prompt for prompt, _, _ in fitted],
                                   max_new_tokens=max_new_tokens, batch_size=1)
    return [(g.text, prompt, used, Timings(generate_s=g.latency_s, prompt_tokens=g.prompt_tokens,
                                           new_tokens=g.completion_tokens))
            for g, (prompt, used, _) in zip(generations, fitted, strict=True)]


def answer_many(
    questions: list[str],
    store: StoreConfig,
    model: str | None,
    k: int = DEFAULT_K,
    min_score: float | None = DEFAULT_MIN_SCORE,
    mmr: bool = False,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    engine: str = "transformers",
) -> list[Answer]:
    """Retrieve for all questions at once, then answer each (no model: retrieval only, empty
    answer). A question with no passage at `min_score` or above gets NOT_COVERED, ungenerated."""
    from lm.embeddings import load_embedder

    load_embedder()  # a one-off ~10 s load is not retrieval time
    started = time.perf_counter()
    all_hits = search(questions, store, k=k, mmr=mmr, min_score=min_score)
    retrieve_s = (time.perf_counter() - started) / max(1, len(questions))
    answers: list[Answer | None] = []
    to_generate = []
    for question, hits in zip(questions, all_hits, strict=True):
        if not hits:
            answers.append(Answer(question=question, answer=NOT_COVERED, covered=False, model=model,
                                  timings=Timings(retrieve_s=retrieve_s)))
        elif model is None:
            answers.append(Answer(question=question, answer="", covered=True, hits=hits,
                                  prompt=build_rag_prompt(question, hits), timings=Timings(retrieve_s=retrieve_s)))
        else:
            answers.append(None)
            to_generate.append(len(answers) - 1)
    if to_generate:
        generated = generate_answers_for(model, [questions[i] for i in to_generate],
                                         [all_hits[i] for i in to_generate], max_new_tokens, engine)
        for i, (text, prompt, used, timings) in zip(to_generate, generated, strict=True):
            timings.retrieve_s = retrieve_s
            answers[i] = Answer(question=questions[i], answer=text, covered=True, hits=used, model=model,
                                prompt=prompt, timings=timings)
    return answers  # type: ignore[return-value]


def answer(
    question: str,
    store: StoreConfig,
    model: str | None,
    k: int = DEFAULT_K,
    min_score: float | None = DEFAULT_MIN_SCORE,
    mmr: bool = False,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    engine: str = "transformers",
) -> Answer:
    """One question answered from the store; see `answer_many`."""
    return answer_many([question], store, model, k=k, min_score=min_score, mmr=mmr,
                       max_new_tokens=max_new_tokens, engine=engine)[0]
