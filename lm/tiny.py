"""Build a small Llama-architecture model offline: a BPE tokenizer trained on local text, a chat
template, random weights, saved in the standard format so `from_pretrained(folder)` loads it.

It exists so the whole pipeline (tuning, RAG answers, comparison) runs without a model hub.
"""
from __future__ import annotations

from pathlib import Path

# A chat template in the usual role/content shape. `{% generation %}` marks what trl's
# assistant_only_loss trains on; the end-of-turn token is the eos so generate() stops.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|assistant|>\n' }}{% generation %}{{ message['content'] + '<|end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|end|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>"]

# Enough varied English and SQL for a byte-level BPE to learn useful merges.
_BUILTIN_CORPUS = """\
The quick brown fox jumps over the lazy dog. A fine-tuned model learns tone, format and skills.
Retrieval augmented generation answers questions from documents and cites its sources.
SELECT name, COUNT(*) FROM users WHERE created_at > '2024-01-01' GROUP BY name ORDER BY 2 DESC;
SELECT a.title FROM articles AS a JOIN authors AS b ON a.author_id = b.id WHERE b.country = 'FR';
Question: what is the capital of France? Answer: Paris is the capital of France.
Low-rank adaptation freezes the base weights and trains two small matrices per layer.
The customer asked for a refund; the assistant replied politely and explained the policy.
INSERT INTO orders (id, amount) VALUES (1, 9.99); UPDATE orders SET amount = 10 WHERE id = 1;
"""


def build_tiny_model(
    output_dir: str | Path,
    *,
    corpus: list[str] | None = None,
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 128,
    max_position_embeddings: int = 512,
    seed: int = 0,
) -> Path:
    """Train a tokenizer on `corpus` (plus built-in text), build a random LlamaForCausalLM, save both."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = [_BUILTIN_CORPUS] + list(corpus or [])

    tok = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|bos|>",
        eos_token="<|end|>",
        pad_token="<|pad|>",
        unk_token="<|unk|>",
        model_max_length=max_position_embeddings,
    )
    tokenizer.chat_template = CHAT_TEMPLATE

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
