"""Example lengths as the trainer builds the sequence: in tokens of the model's tokenizer, or
without one in whitespace-separated words (an approximation: subword tokenizers give at least one
token per word, and more for code and SQL).

Each length has two parts, the whole sequence and its prompt (the leading tokens that carry no
loss), measured on the rows the recipes pass to trl (`Example.to_trl`) the way trl 1.16 tokenizes
them (`trl/trainer/sft_trainer.py` and `dpo_trainer.py`, `_prepare_dataset`):
- prompt/completion and preference rows: the prompt alone (with the generation prompt when
  conversational) and prompt + answer (+ eos as text when not) are tokenized; the answer starts
  where the two stop sharing a prefix (`trl.data_utils.common_prefix_length`);
- chat rows: one pass of the chat template; with `{% generation %}` in it (the SFT recipe then
  sets `assistant_only_loss`) the loss starts at the first assistant token, else at the first token.
trl then truncates keeping the start (`truncation_mode="keep_start"`) and drops the rows with no
loss token left ("Drop examples left fully masked by truncation"; DPO: `len(prompt_ids) <
max_length`): an example whose prompt alone is max_seq_len tokens or more is never trained on.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.data.schemas import Example
from tuning.errors import TuningError


@dataclass(frozen=True)
class SeqLength:
    total: int  # tokens (or words) of the whole training sequence (DPO: the longer answer's)
    prompt: int  # of which the leading ones that carry no loss

    def unusable(self, max_seq_len: int) -> bool:
        """True when cutting to max_seq_len leaves no loss token: trl drops the example."""
        return self.prompt >= max_seq_len


def load_tokenizer(tokenizer: Any) -> tuple[Any, str | None]:
    """(tokenizer object or None, its name). Accepts None, a model folder / hub id, or a tokenizer."""
    if tokenizer is None:
        return None, None
    if not isinstance(tokenizer, (str, Path)):
        return tokenizer, getattr(tokenizer, "name_or_path", None) or type(tokenizer).__name__
    from transformers import AutoTokenizer  # lazily: transformers takes seconds to import

    from lm.refs import check_available

    source = check_available(str(tokenizer))  # one line for a hub id no hub or cache can give
    try:
        return AutoTokenizer.from_pretrained(source), str(tokenizer)
    except (OSError, ValueError) as exc:
        raise TuningError(f"cannot load the tokenizer of {str(tokenizer)!r} ({exc})") from exc


def example_lengths(examples: list[Example], tokenizer: Any = None) -> list[SeqLength]:
    """The length of each example: tokens with `tokenizer` (a loaded one), else whitespace words."""
    if tokenizer is None:
        return [_words(ex) for ex in examples]
    chat = bool(getattr(tokenizer, "chat_template", None))
    return [_tokens(ex, ex.to_trl(chat=chat), tokenizer, chat) for ex in examples]


def _words(ex: Example) -> SeqLength:
    if ex.messages is not None:  # which turns carry loss is the chat template's to say
        return SeqLength(len(ex.text().split()), 0)
    prompt = len(ex.prompt.split()) + len((ex.system or "").split())
    answer = max(len(a.split()) for a in (ex.completion, ex.chosen, ex.rejected) if a is not None)
    return SeqLength(prompt + answer, prompt)


def _tokens(ex: Example, row: dict, tok: Any, chat: bool) -> SeqLength:
    if "messages" in row:
        if not chat:  # trl cannot build it without a template; count the text and an eos
            return SeqLength(len(_ids(tok, ex.text())) + 1, 0)
        return _chat_length(tok, row["messages"])
    answers = [row["completion"]] if "completion" in row else [row["chosen"], row["rejected"]]
    prompt = _ids(tok, row["prompt"], add_generation_prompt=True)
    full = [_ids(tok, _join(row["prompt"], answer, tok)) for answer in answers]
    return SeqLength(max(map(len, full)), min(_common_prefix(prompt, ids) for ids in full))


def _join(prompt: str | list, answer: str | list, tok: Any) -> str | list:
    """prompt + answer as trl joins them: lists of messages, or text ending with the eos (add_eos)."""
    if isinstance(prompt, list):
        return prompt + answer
    eos = tok.eos_token or ""
    return prompt + answer + ("" if answer.endswith(eos) else eos)


_QUIET = {"verbose": False}  # no "longer than the maximum sequence length" warning: we measure exactly that


def _ids(tok: Any, value: str | list, **template_kwargs: Any) -> list[int]:
    """trl.data_utils._tokenize: the chat template for messages, the tokenizer's call for text."""
    if isinstance(value, list):
        out = tok.apply_chat_template(value, tokenize=True, return_dict=True, tokenizer_kwargs=_QUIET,
                                      **template_kwargs)
        return list(out["input_ids"])
    return list(tok(text=value, **_QUIET)["input_ids"])


def _chat_length(tok: Any, messages: list[dict]) -> SeqLength:
    assistant_only = "generation" in tok.chat_template  # tuning/recipes/sft.py: assistant_only_loss
    out = tok.apply_chat_template(messages, tokenize=True, return_dict=True, tokenizer_kwargs=_QUIET,
                                  return_assistant_tokens_mask=assistant_only)
    ids = out["input_ids"]
    if not assistant_only:
        return SeqLength(len(ids), 0)
    mask = list(out["assistant_masks"])
    return SeqLength(len(ids), mask.index(1) if 1 in mask else len(ids))


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):  # a common prefix: the shorter list ends it
        if x != y:
            break
        n += 1
    return n
