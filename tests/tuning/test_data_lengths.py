"""Lengths as trl 1.16 builds the sequences: for the rows the recipes give it, the whole sequence
and its loss-free prompt in tokens equal what SFTTrainer / DPOTrainer prepare, and the examples the
data check calls unusable are exactly those the trainers drop (the truth is trl itself)."""
from __future__ import annotations

import pytest

from tuning.data import Example, Message
from tuning.data.lengths import SeqLength, example_lengths

pytestmark = pytest.mark.slow

LONG = "word " * 40  # ~120 tiny-model tokens
CHAT = [Message(role="system", content="Be brief."), Message(role="user", content="Hi?"),
        Message(role="assistant", content="Hello there.")]
CASES = {
    "prompt_completion": [
        Example(prompt="short", completion="SELECT 1;", source_line=1),
        Example(prompt=LONG, completion="ok", source_line=2),  # the prompt fills max_length: dropped
        Example(prompt="short", completion=LONG, source_line=3),  # cut, still trained on
        Example(prompt="short", completion="ok", system="Answer in SQL.", source_line=4),  # prompt 23 tokens: kept
        Example(prompt="word " * 8, completion="ok", source_line=5),  # as plain text the prompt is 24: dropped
    ],
    "messages": [
        Example(messages=CHAT, source_line=1),
        Example(messages=[Message(role="user", content=LONG), *CHAT[2:]], source_line=2),
    ],
    "dpo": [
        Example(prompt="short", chosen="yes", rejected="no", source_line=1),
        Example(prompt=LONG, chosen="yes", rejected="no", source_line=2),
    ],
}
MAX_LENGTH = 24


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    from lm.loading import load_tokenizer

    return AutoModelForCausalLM.from_pretrained(str(tiny_model_dir)), load_tokenizer(str(tiny_model_dir))


def _prepared(kind: str, model, tok, rows: list[dict], max_length: int | None, tmp_path):
    """The dataset trl trains on, built by its own trainer from the recipes' settings."""
    from datasets import Dataset

    common = dict(output_dir=str(tmp_path / "out"), max_length=max_length, use_cpu=True, bf16=False,
                  report_to="none")
    if kind == "dpo":
        from trl import DPOConfig, DPOTrainer

        return DPOTrainer(model=model, args=DPOConfig(**common), train_dataset=Dataset.from_list(rows),
                          processing_class=tok).train_dataset
    from trl import SFTConfig, SFTTrainer

    assistant_only = kind == "messages"  # tuning/recipes/sft.py: chat rows and {% generation %} in the template
    args = SFTConfig(**common, assistant_only_loss=assistant_only)
    return SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                      processing_class=tok).train_dataset


def _trl_lengths(kind: str, prepared) -> list[SeqLength]:
    if kind == "dpo":
        return [
            SeqLength(total=len(p) + max(len(c), len(r)), prompt=len(p))
            for p, c, r in zip(prepared["prompt_ids"], prepared["chosen_ids"], prepared["rejected_ids"], strict=True)
        ]
    return [SeqLength(total=len(labels), prompt=next(i for i, x in enumerate(labels) if x != -100))
            for labels in prepared["labels"]]


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("chat", [True, False], ids=["chat-template", "plain-text"])
def test_lengths_and_drops_equal_trl(kind, chat, tiny, tmp_path):
    model, tok = tiny
    if not chat:
        if kind == "messages":
            pytest.skip("chat rows need a chat template")
        tok = _without_template(tok)
    examples = [ex for ex in CASES[kind] if chat or ex.system is None]  # a system turn needs a template
    rows = [{**ex.to_trl(chat=chat), "line": ex.source_line} for ex in examples]
    ours = example_lengths(examples, tok)
    assert ours == _trl_lengths(kind, _prepared(kind, model, tok, rows, None, tmp_path))
    kept = list(_prepared(kind, model, tok, rows, MAX_LENGTH, tmp_path)["line"])
    assert kept == [ex.source_line for ex, n in zip(examples, ours, strict=True) if not n.unusable(MAX_LENGTH)]
    assert len(kept) < len(examples)  # each case has a row trl drops


def _without_template(tok):
    import copy

    plain = copy.deepcopy(tok)
    plain.chat_template = None
    return plain


def test_words_without_a_tokenizer():
    lengths = example_lengths([Example(prompt="a b c", completion="d e", system="s", source_line=1),
                               Example(prompt="a", chosen="b c", rejected="d", source_line=2),
                               Example(messages=CHAT, source_line=3)])
    # messages: which turns carry loss is the chat template's to say, so no prompt is assumed
    assert lengths == [SeqLength(6, 4), SeqLength(3, 1), SeqLength(8, 0)]
