"""`tuning.memory`: the estimator sees the training the JobSpec describes, at the batch length the
tokenized data really reaches (trl's own tokenization is the reference), and memory.json says so."""
import json

import pytest

from tuning.memory import estimate_request, padded_batch_length, record
from tuning.spec import JobSpec


def test_the_request_describes_the_job_and_takes_what_the_job_does_not_hold(tmp_path):
    spec = JobSpec(model="llama-3.1-8b", data=str(tmp_path / "d.jsonl"), output=str(tmp_path / "run"),
                   method="qlora", lora_rank=8, lora_dropout=0.1, grad_accum=4, max_seq_len=1024)
    req = estimate_request(spec, gpu="H100 SXM", train_tokens=1000, epochs=3)
    assert (req.method, req.quant, req.precision, req.lora_rank, req.lora_dropout) == ("qlora", "nf4", "bf16", 8, 0.1)
    assert (req.gradient_accumulation, req.seq_len, req.gpu, req.train_tokens, req.epochs) == (
        4,
        1024,
        "H100 SXM",
        1000,
        3,
    )
    assert req.stack == "trl" and req.device == "cuda"
    cpu = estimate_request(spec, device="cpu", seq_len=77)
    assert (cpu.precision, cpu.device, cpu.seq_len) == ("fp32", "cpu", 77)
    dpo = JobSpec(model="llama-3.1-8b", data=str(tmp_path / "d.jsonl"), output=str(tmp_path / "run"), method="dpo",
                  batch_size=2)
    assert estimate_request(dpo).batch_size == 4  # chosen and rejected in one forward


def _trl_lengths(tiny_model_dir, rows, max_length, tmp_path):
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    args = SFTConfig(
        output_dir=str(tmp_path / "trl"), use_cpu=True, bf16=False, report_to="none", max_length=max_length
    )
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        args=args,
        processing_class=tokenizer,
        train_dataset=Dataset.from_list(rows),
        peft_config=LoraConfig(r=4, target_modules="all-linear"),
    )
    return tokenizer, [len(ids) for ids in trainer.train_dataset["input_ids"]]


@pytest.mark.slow
@pytest.mark.parametrize("chat", [True, False], ids=["chat-template", "plain-text"])
def test_padded_batch_length_is_what_trl_tokenizes(tiny_model_dir, tmp_path, chat):
    prompts = ["What is 2 plus 2?", "Name a colour of the sky on a clear day, in one word please.", "Hi"]
    if chat:
        rows = [{"prompt": [{"role": "user", "content": p}], "completion": [{"role": "assistant", "content": "Four."}]}
                for p in prompts]
    else:
        rows = [{"prompt": p, "completion": " Four."} for p in prompts]
    spec = JobSpec(model=str(tiny_model_dir), data="unused.jsonl", output=str(tmp_path / "run"), max_seq_len=512)
    tokenizer, lengths = _trl_lengths(tiny_model_dir, rows, 512, tmp_path)
    if not chat:
        tokenizer.chat_template = None
    assert padded_batch_length(spec, tokenizer, rows) == max(lengths) < 512
    cut = min(lengths) + 1  # truncates the longer rows; trl drops those whose prompt fills the cut
    trl_cut = _trl_lengths(tiny_model_dir, rows, cut, tmp_path)[1]
    short = spec.model_copy(update={"max_seq_len": cut})
    assert padded_batch_length(short, tokenizer, rows) == max(trl_cut)


@pytest.mark.slow
def test_memory_json_estimates_the_cpu_run_at_its_real_length(tiny_model_dir, sft_data, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    spec = JobSpec(model=str(tiny_model_dir), data=str(sft_data), output=str(run_dir), max_seq_len=512)
    data = record(run_dir, spec)
    assert json.loads((run_dir / "memory.json").read_text()) == data
    assert data["device"] == "cpu" and data["estimate"]["device"] == "cpu"
    assert 8 < data["estimated_seq_len"] < 64 and data["estimated_seq_len_from"] == "the longest tokenized training row"
    assert data["estimate"]["memory_gib"]["cuda_context"] == 0 and data["estimated_total_gib"] > 0
