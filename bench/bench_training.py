"""Training throughput and peak memory: our worker (trl SFTTrainer, batches padded to their
longest example) vs a plain transformers `Trainer` + peft script padding every example to the
maximum length, as many scripts do. Same model, data, LoRA, batch, steps and seed; each runs in
its own process so peak RSS is its own.

Tokens/s counts real (non-padding) tokens: `num_input_tokens_seen` ("non_padding") over the
Trainer's `train_runtime`, the same counter for both.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS, BATCH, SEQ_LEN, RANK, LR = 15, 8, 512, 16, 2e-4
MODEL = dict(hidden_size=256, num_layers=4, num_heads=8, num_kv_heads=4, intermediate_size=512)  # ~1.7M params

BASELINE = r"""
import json, resource, sys, time
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments
model_dir, data, out, steps, batch, seq_len, rank, lr = sys.argv[1:9]
tok = AutoTokenizer.from_pretrained(model_dir)
rows = [json.loads(line) for line in open(data)]
texts = [tok.apply_chat_template([{"role": "user", "content": r["prompt"]},
                                  {"role": "assistant", "content": r["completion"]}], tokenize=False) for r in rows]
enc = tok(texts, padding="max_length", truncation=True, max_length=int(seq_len), add_special_tokens=False)
class DS(torch.utils.data.Dataset):
    def __len__(self): return len(texts)
    def __getitem__(self, i):
        ids = torch.tensor(enc["input_ids"][i]); mask = torch.tensor(enc["attention_mask"][i])
        return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
model = get_peft_model(model, LoraConfig(r=int(rank), lora_alpha=2 * int(rank), lora_dropout=0.05,
                                         target_modules="all-linear", task_type="CAUSAL_LM"))
args = TrainingArguments(output_dir=out, per_device_train_batch_size=int(batch), max_steps=int(steps),
                         learning_rate=float(lr), logging_steps=10, save_strategy="no", report_to="none",
                         use_cpu=True, seed=42, include_num_input_tokens_seen="non_padding", disable_tqdm=True)
trainer = Trainer(model=model, args=args, train_dataset=DS())
cpu0 = time.process_time()
result = trainer.train()
print("RESULT", json.dumps({"train_runtime_s": result.metrics["train_runtime"],
                            "train_cpu_s": time.process_time() - cpu0,
                            "input_tokens": result.metrics.get("num_input_tokens_seen"),
                            "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1024**3}))
"""


def make_data(path: Path, n: int = 400, seed: int = 0) -> Path:
    """Prompt/completion pairs of varied length (about 20-250 tokens), like real instruction data."""
    rng = random.Random(seed)
    words = "the model learns tone format and skills from small curated examples of questions and answers".split()
    rows = []
    for i in range(n):
        prompt = f"Question {i}: " + " ".join(rng.choice(words) for _ in range(rng.randint(5, 40)))
        answer = " ".join(rng.choice(words) for _ in range(rng.randint(5, 120)))
        rows.append({"prompt": prompt, "completion": answer})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def run_ours(model_dir: Path, data: Path, out: Path, packing: bool = False) -> dict:
    import runs
    from tuning.spec import JobSpec

    # LoRA alpha is the spec's 2 x rank, as in the baseline's LoraConfig.
    spec = JobSpec(model=str(model_dir), data=str(data), output=str(out), method="lora", max_steps=STEPS,
                   batch_size=BATCH, max_seq_len=SEQ_LEN, packing=packing, lora_rank=RANK, learning_rate=LR,
                   logging_steps=10, save_steps=10_000, eval_fraction=0.0, near_dup_threshold=None, device="cpu")
    status = runs.wait(runs.launch(spec), timeout_s=1200, poll_s=1.0)
    if status.state != "completed":
        raise RuntimeError(f"our run {status.state}: {status.error}")
    summary = [m for m in runs.read_metrics(out) if "train_runtime_s" in m][-1]
    memory = json.loads((out / "memory.json").read_text())
    return {**summary, "peak_gib": memory["measured_peak_gib"]}


def run_baseline(model_dir: Path, data: Path, out: Path) -> dict:
    args = [str(a) for a in (model_dir, data, out, STEPS, BATCH, SEQ_LEN, RANK, LR)]
    proc = subprocess.run([sys.executable, "-c", BASELINE, *args], capture_output=True, text=True, timeout=1200)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"baseline failed: {proc.stderr[-2000:]}")
    return json.loads(line[-1][len("RESULT "):])


def main() -> str:
    from lm.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = build_tiny_model(tmp / "model", max_position_embeddings=SEQ_LEN, **MODEL)
        data = make_data(tmp / "data.jsonl")
        t0 = time.time()
        results = [
            ("ours: trl SFTTrainer, batches padded to their longest", run_ours(model_dir, data, tmp / "ours")),
            ("ours with --packing (bfd: padding-free, no padding)", run_ours(model_dir, data, tmp / "packed", True)),
            ("plain Trainer + peft, every example padded to max length", run_baseline(model_dir, data, tmp / "base")),
        ]
        wall = time.time() - t0
    rows = []
    for name, r in results:
        rows.append((name, r["train_runtime_s"], r["train_cpu_s"], r["input_tokens"],
                     r["input_tokens"] / r["train_runtime_s"], r["input_tokens"] / r["train_cpu_s"], r["peak_gib"]))
    base_cpu_rate = rows[-1][5]
    lines = [
        "## Training throughput: our worker vs a plain Trainer + peft script",
        "",
        f"Tiny Llama (hidden {MODEL['hidden_size']}, {MODEL['num_layers']} layers), LoRA r={RANK} all-linear, "
        f"{STEPS} steps x batch {BATCH}, max length {SEQ_LEN}, CPU fp32, the same 400 prompt/completion pairs "
        "(20-250 words). Real tokens = non-padding tokens. CPU s = the training process's CPU time (all "
        "threads), which other work on a shared machine disturbs far less than wall time.",
        "",
        "| run | train wall (s) | train CPU (s) | real tokens | real tokens/s (wall) | real tokens per CPU-s | "
        "speed vs baseline (CPU) | peak RSS (GiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *[f"| {n} | {t:.1f} | {c:.1f} | {tok:,} | {rw:,.0f} | {rc:,.0f} | {rc / base_cpu_rate:.2f}x | {gib:.2f} |"
          for n, t, c, tok, rw, rc, gib in rows],
        "",
        f"Bench wall time {wall:.0f} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
