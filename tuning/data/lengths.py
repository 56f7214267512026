"""Example lengths in tokens (with the model's tokenizer, measured the way the trainer builds the
sequence) or, without one, in whitespace-separated words (an approximation: subword tokenizers
give more tokens than words, the more so for code and SQL)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tuning.data.models import Example
from tuning.errors import TuningError


def load_tokenizer(tokenizer: Any) -> tuple[Any, str | None]:
    """(tokenizer object or None, its name). Accepts None, a model folder / hub id, or a tokenizer."""
    if tokenizer is None:
        return None, None
    if not isinstance(tokenizer, (str, Path)):
        return tokenizer, getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
    from transformers import AutoTokenizer  # lazily: transformers takes seconds to import

    from tuning.model_ref import check_available

    source = check_available(str(tokenizer))  # one line for a hub id no hub or cache can give
    try:
        return AutoTokenizer.from_pretrained(source), str(tokenizer)
    except (OSError, ValueError) as exc:
        raise TuningError(f"cannot load the tokenizer of {str(tokenizer)!r} ({exc})") from exc


def example_lengths(examples: list[Example], tokenizer: Any = None) -> list[int]:
    """Length of each example: tokens with `tokenizer` (a loaded one), else whitespace words.
    SFT: prompt + completion (+ eos) or the chat template over the messages; DPO: the prompt
    with the longer of chosen/rejected (the longer sequence is what gets cut)."""
    if tokenizer is None:
        return [_words(ex) for ex in examples]
    return [_tokens(ex, tokenizer) for ex in examples]


def _words(ex: Example) -> int:
    if ex.chosen is not None:
        base = len(ex.prompt.split()) + len((ex.system or "").split())
        return base + max(len(ex.chosen.split()), len(ex.rejected.split()))
    return len(ex.text().split())


def _tokens(ex: Example, tok: Any) -> int:
    answers = [ex.completion] if ex.chosen is None else [ex.chosen, ex.rejected]
    if getattr(tok, "chat_template", None) and (ex.messages is not None or ex.system is not None):
        row = ex.to_trl()  # conversational: the chat template builds the sequence
        if "messages" in row:
            return _chat_len(tok, row["messages"])
        return max(_chat_len(tok, row["prompt"] + [{"role": "assistant", "content": a}]) for a in answers)
    if ex.messages is not None:
        return _text_len(tok, ex.text()) + 1
    # trl tokenizes prompt and completion separately, concatenates them and appends eos.
    prompt = f"{ex.system}\n{ex.prompt}" if ex.system else ex.prompt
    return _text_len(tok, prompt) + max(_text_len(tok, a) for a in answers) + 1


def _text_len(tok: Any, text: str) -> int:
    return len(tok(text, add_special_tokens=False, verbose=False)["input_ids"])


def _chat_len(tok: Any, messages: list[dict]) -> int:
    ids = tok.apply_chat_template(messages, tokenize=True)
    return len(ids["input_ids"] if hasattr(ids, "keys") else ids)
