"""generate_answers: from a run folder, a model folder or a name; batched greedy answers equal
one-at-a-time answers (left padding, float32) on the tiny model and on SmolLM2 with real
questions; each answer has its own token counts; single-request latency is measured apart."""
import pytest

from bench.bench_offline_models import QUESTIONS  # 8 real questions of different lengths (padded batches)
from lm.generate import _answer_length, _batches, generate_answers, measure_latency

pytestmark = pytest.mark.slow

PROMPTS = ["What is 3 plus 4?", "What is 10 plus 20?", "Hi"]


def test_answers_from_a_run_with_tokens_and_latency(lora_run):
    batched = generate_answers(lora_run, PROMPTS, max_new_tokens=8, batch_size=3)
    single = generate_answers(lora_run, PROMPTS, max_new_tokens=8, batch_size=1)
    assert [g.prompt for g in batched] == PROMPTS
    assert [g.text for g in batched] == [g.text for g in single]  # greedy, and padding does not leak
    for g in batched:
        assert isinstance(g.text, str) and 1 <= g.completion_tokens <= 8
        assert g.prompt_tokens > 3 and g.latency_s > 0 and g.batch_size == 3
        assert g.share_s == pytest.approx(g.latency_s / 3)
    assert [g.prompt_tokens for g in batched] == [g.prompt_tokens for g in single]  # padding not counted


def test_the_chat_template_is_applied_when_the_tokenizer_has_one(tiny_model_dir):
    from lm.generate import prompt_text
    from lm.loading import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    assert (
        prompt_text(tok, "Hi", "Be brief.", True)
        == "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n"
    )
    assert prompt_text(tok, "Hi", None, False) == "Hi"
    [answer] = generate_answers(str(tiny_model_dir), ["Hi"], max_new_tokens=4)
    assert answer.completion_tokens <= 4


def test_a_conversation_prompt_puts_its_demonstrations_before_the_question(tiny_model_dir):
    from lm.generate import prompt_text, prompt_tokens
    from lm.loading import load_tokenizer

    tok = load_tokenizer(str(tiny_model_dir))
    turns = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
    assert prompt_text(tok, turns, "S") == ("<|system|>\nS<|end|>\n<|user|>\nQ1<|end|>\n<|assistant|>\nA1<|end|>\n"
                                           "<|user|>\nQ2<|end|>\n<|assistant|>\n")
    assert prompt_text(tok, turns, None, False) == "Q1\n\nA1\n\nQ2"
    [answer] = generate_answers(str(tiny_model_dir), [turns], max_new_tokens=4)
    assert answer.prompt_tokens == prompt_tokens(tok, turns) > prompt_tokens(tok, "Q2")


def test_an_answer_counts_its_tokens_up_to_its_eos_not_the_padding_after():
    eos = {2}
    assert _answer_length([5, 6, 2, 2, 2], eos) == 3  # pad == eos, as in SmolLM2
    assert _answer_length([5, 6, 7], eos) == 3
    assert _answer_length([2, 0, 0], eos) == 1


def test_batches_group_prompts_of_similar_length_and_keep_every_prompt():
    batches = _batches([3, 50, 4, 48, 5], 2)
    assert batches == [[1, 3], [4, 2], [0]]


def test_tiny_batched_by_eight_equals_one_at_a_time(tiny_model_dir):
    model = str(tiny_model_dir)
    batched = generate_answers(model, QUESTIONS, max_new_tokens=12)  # default batch 8
    single = generate_answers(model, QUESTIONS, max_new_tokens=12, batch_size=1)
    assert {g.batch_size for g in batched} == {8} and {g.batch_size for g in single} == {1}
    assert [(g.text, g.completion_tokens) for g in batched] == [(g.text, g.completion_tokens) for g in single]


def test_single_request_latency_is_measured_on_a_small_sample(tiny_model_dir):
    sample = measure_latency(str(tiny_model_dir), QUESTIONS, max_new_tokens=4, sample=3)
    assert sample.requests == 3 and len(sample.latencies_s) == 3 and all(t > 0 for t in sample.latencies_s)
    assert sample.max_latency_s >= sample.median_latency_s > 0 and sample.tokens_per_s > 0


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):
    from lm.generate import load_for_inference

    return load_for_inference(str(smollm2_dir))  # float32: the CPU inference dtype


def test_smollm2_batched_greedy_answers_equal_one_at_a_time(smollm2):
    batched = generate_answers(smollm2, QUESTIONS, max_new_tokens=16, batch_size=8)
    single = generate_answers(smollm2, QUESTIONS, max_new_tokens=16, batch_size=1)
    assert [g.text for g in batched] == [g.text for g in single]
    assert [g.completion_tokens for g in batched] == [g.completion_tokens for g in single]
    assert batched[0].text == "The capital of France is Paris."
    assert batched[0].completion_tokens == 8  # 7 tokens and the eos, whatever the batch's padding


def test_padding_alone_moves_the_logits_and_only_by_rounding(smollm2):
    """Why bf16 batches answer differently: an unpadded batch gives a prompt's logits bit for bit,
    a padded one moves them by float rounding only (float32: ~4e-5, positions are right)."""
    import torch

    model, tok = smollm2
    tok.padding_side = "left"
    texts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
             for q in QUESTIONS[:3]]
    with torch.no_grad():
        alone = model(**tok(texts[:1], return_tensors="pt", add_special_tokens=False)).logits[0, -1]
        copies = model(**tok(texts[:1] * 3, return_tensors="pt", add_special_tokens=False)).logits[:, -1]
        padded = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        assert padded["attention_mask"][0].sum() < padded["attention_mask"].shape[1]  # the first one is padded
        in_batch = model(**padded).logits[0, -1]
    assert torch.equal(copies[0], alone) and torch.equal(copies[2], alone)
    assert 0 < (in_batch - alone).abs().max() < 1e-3


def test_a_name_is_pulled_and_answers(smollm2_dir, monkeypatch):
    monkeypatch.setenv("FTADVISOR_HOME", str(smollm2_dir.parent.parent))
    [answer] = generate_answers("smollm2-135m-instruct", ["What is the capital of France?"], max_new_tokens=12)
    assert "Paris" in answer.text
