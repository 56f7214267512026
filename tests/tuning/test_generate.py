"""generate_answers: from a run folder or a model folder; batched == one by one (left padding)."""
import pytest

from tuning.generate import generate_answers

pytestmark = pytest.mark.slow

PROMPTS = ["What is 3 plus 4?", "What is 10 plus 20?", "Hi"]


def test_answers_from_a_run_with_tokens_and_latency(trained_run):
    batched = generate_answers(trained_run, PROMPTS, max_new_tokens=8, batch_size=3)
    single = generate_answers(trained_run, PROMPTS, max_new_tokens=8, batch_size=1)
    assert [g.prompt for g in batched] == PROMPTS
    assert [g.text for g in batched] == [g.text for g in single]  # greedy, and padding does not leak
    for g in batched:
        assert isinstance(g.text, str) and 1 <= g.completion_tokens <= 8
        assert g.prompt_tokens > 3 and g.latency_s > 0 and g.batch_size == 3


def test_the_chat_template_is_applied_when_the_tokenizer_has_one(tiny_model_dir):
    from tuning.generate import _prompt_text
    from tuning.loading import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    assert _prompt_text(tok, "Hi", "Be brief.", True) == "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n"
    assert _prompt_text(tok, "Hi", None, False) == "Hi"
    [answer] = generate_answers(str(tiny_model_dir), ["Hi"], max_new_tokens=4)
    assert answer.completion_tokens <= 4
