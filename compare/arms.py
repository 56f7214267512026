"""The arms and how each turns a held-out question into an answer.

`base` asks the model the question alone (zero-shot); `fewshot` asks it after demonstrations (the
training pairs nearest the question, as earlier user and assistant turns: compare.stages.examples);
`rag` prompts it with retrieved passages (the RAG baseline's own prompt), after demonstrations too
when `prompting.rag_examples` asks for them; `finetuned` prompts base + adapter; `finetuned_rag`
gives base + adapter the RAG prompt. Every arm uses the same chat formatting and the same
generation settings. Heavy imports stay inside the functions (worker only).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from compare.spec import FINETUNED_ARMS, RETRIEVAL_ARMS, GenerationSettings


def uses_retrieval(arm: str) -> bool:
    return arm in RETRIEVAL_ARMS


def uses_adapter(arm: str) -> bool:
    return arm in FINETUNED_ARMS


def arm_prompt(arm: str, question: str, hits: list, tokenizer: Any = None, max_tokens: int | None = None) -> str:
    """The user turn an arm sends: the question, or the RAG baseline's prompt around the hits,
    fitted to `max_tokens` with the RAG baseline's rule (least relevant passages go first, the
    question is never cut)."""
    if not uses_retrieval(arm):
        return question
    if tokenizer is None or max_tokens is None:
        from rag_baseline import build_rag_prompt

        return build_rag_prompt(question, hits)
    from rag_baseline.answer import fit_prompt

    prompt, _, _ = fit_prompt(question, hits, tokenizer, max_tokens)
    return prompt


def with_examples(prompt: str, examples: list[tuple[str, str]], tokenizer: Any = None, max_tokens: int | None = None,
                  system: str | None = None) -> str | list[dict[str, str]]:
    """`prompt` after its demonstrations (question, answer), nearest first in `examples` and nearest
    last in the conversation, next to the question. The farthest go first when it would not fit
    `max_tokens`; with none left it is the prompt alone."""
    kept = list(examples)
    while kept:
        turns = [turn for question, answer in reversed(kept)
                 for turn in ({"role": "user", "content": question}, {"role": "assistant", "content": answer})]
        turns.append({"role": "user", "content": prompt})
        if tokenizer is None or max_tokens is None:
            return turns
        from lm.generate import prompt_tokens

        if prompt_tokens(tokenizer, turns, system) <= max_tokens:
            return turns
        kept.pop()
    return prompt


class Generator:
    """A model (the base, or a tuning run's adapter on its base) answering prompts through
    `lm.generate.generate_answers`, one batch per call.

    A tuning run folder loads its adapter on the base it was trained on (4-bit NF4 for QLoRA).
    `engine` (lm.engines): transformers unless asked, since forgetting reads the transformers model.
    The tokenizer and the config load at once, the model at its first use: an answering stage whose
    answers are all in the run's cache (compare.answer_cache) never loads it."""

    def __init__(self, model_or_run_dir: str | Path, *, device: str = "auto", engine: str = "transformers") -> None:
        from transformers import AutoConfig

        from lm.generate import choose_model
        from lm.loading import load_tokenizer
        from lm.refs import check_available

        self.device = device
        self.choice = choose_model(str(model_or_run_dir), device=device, engine=engine)
        self.tokenizer = load_tokenizer(self.choice.adapter or self.choice.source)
        self.config = AutoConfig.from_pretrained(check_available(self.choice.source))
        self._model: Any = None
        self._warm = False

    @property
    def model(self) -> Any:
        if self._model is None:
            from lm.generate import load_chosen

            self._model = load_chosen(self.choice, device=self.device)
        return self._model

    def generate(self, prompts: list, settings: GenerationSettings, max_prompt_tokens: int | None = None):
        """One `lm.generate.Generation` per prompt (text, token counts, latency_s of the one
        generate() call that answered them all, batch_size), greedy unless the settings sample."""
        from lm.generate import generate_answers

        if max_prompt_tokens is not None:
            prompts = [self._fit(prompt, max_prompt_tokens) for prompt in prompts]
        return generate_answers(
            (self.model, self.tokenizer), prompts, settings.max_new_tokens, batch_size=len(prompts),
            greedy=settings.greedy, temperature=settings.temperature, system=settings.system_prompt,
        )

    def prompt_text(self, prompt, settings: GenerationSettings, max_prompt_tokens: int | None = None) -> str:
        """The text the model reads for `prompt` in `generate`: fitted, in the chat template, after
        the system prompt."""
        from lm.generate import prompt_text

        fitted = self._fit(prompt, max_prompt_tokens) if max_prompt_tokens is not None else prompt
        return prompt_text(self.tokenizer, fitted, settings.system_prompt)

    def warm_up(self, settings: GenerationSettings) -> None:
        """One short untimed generation, once, so one-time set-up (kernels, caches) is not billed
        to the first question's latency."""
        from lm.generate import generate_answers

        if not self._warm:
            generate_answers((self.model, self.tokenizer), ["Hello"], 2, batch_size=1, system=settings.system_prompt)
            self._warm = True

    def _fit(self, prompt, max_tokens: int):
        """Cut a prompt that would not fit the context from the front (the question is at the end).
        A conversation was fitted when it was built (`with_examples`)."""
        if not isinstance(prompt, str):
            return prompt
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        if len(ids) <= max_tokens:
            return prompt
        return self.tokenizer.decode(ids[-max_tokens:], skip_special_tokens=True)

    def context_limit(self) -> int | None:
        """Longest input the model takes: max_position_embeddings, or the tokenizer's limit if lower."""
        limit = getattr(self.config, "max_position_embeddings", None)
        tok_limit = getattr(self.tokenizer, "model_max_length", None)
        if tok_limit and tok_limit < 10**8:
            limit = min(limit, tok_limit) if limit else tok_limit
        return limit

    def close(self) -> None:
        import gc

        self._model = None
        gc.collect()
