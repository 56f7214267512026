"""What the hybrid's training prompts cost and what they buy: training tokens, training seconds and
right answers (`answer_correct`) of the hybrid arm for each way of building its retrieval training
prompts, measured with SmolLM2-135M-Instruct on facts only the documents hold
(bench/data/fictional_facts).

The comparison's defaults (k = 3 passages of up to 800 characters, --seq-len 512, 20 LoRA steps at
batch 4: 2 epochs of the 38 training rows; 10 held-out questions, greedy, at most 32 new tokens),
one run per scheme, back to back, only the training prompts changing. Training tokens are counted
on the adapter's training file as trl tokenizes it (`tuning.data.lengths`: chat template, prompt
and answer, cut at --seq-len), padding apart; "fed" is that per row times the rows the steps
draw (steps x batch). Seconds depend on the machine's load (shared cores): the load average
is written beside them. `python -m bench train_tokens` (about an hour on 2 busy cores).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

FACTS = Path(__file__).resolve().parent / "data" / "fictional_facts"
STEPS, BATCH = 20, 4
# (title, arms, finetune settings): the first is the comparison as it trained before the
# --train-passages default; `rag` answers once, for reference.
SCHEMES: list[tuple[str, list[str], dict]] = [
    ("(a) the k = 3 retrieved passages (before)", ["rag", "finetuned_rag"], {"train_passages": 0}),
    ("(b) oracle alone", ["finetuned_rag"], {"train_passages": 1}),
    ("(d) mix: bare + k retrieved, one adapter for both arms", ["finetuned_rag"],
     {"train_passages": 0, "train_prompts": "mix"}),
    ("(c) the k retrieved, fitted to --seq-len 256", ["finetuned_rag"], {"train_passages": 0, "max_seq_len": 256}),
    ("(b) oracle + 1 distractor, 20% distractors only", ["finetuned_rag"],
     {"train_passages": 2, "distractor_only_share": 0.2}),
]


def run(title: str, arms: list[str], finetune: dict, model: str, output: Path):
    """One comparison; returns (results, the hybrid adapter's training file)."""
    import runs
    from compare import files
    from compare.adapters import adapter_for
    from compare.launch import launch_comparison
    from compare.results import load_results
    from compare.spec import CompareSpec

    spec = CompareSpec(
        data=FACTS / "qa.jsonl", docs=[FACTS / "docs"], relevant_field="doc", model=model, arms=arms, output=output,
        finetune={"max_steps": STEPS, "batch_size": BATCH, **finetune},
        generation={"max_new_tokens": 32, "latency_sample": 0},
    )
    status = runs.wait(launch_comparison(spec), timeout_s=3 * 3600, poll_s=2)
    if status.state != "completed":
        raise SystemExit(f"{title}: the comparison ended {status.state}: {status.error}\n{runs.tail_log(output, 30)}")
    return spec, load_results(output), output / files.train_data(adapter_for(spec, "finetuned_rag").name)


def training_tokens(data_file: Path, model: str, max_seq_len: int) -> tuple[int, int]:
    """(rows, tokens of one pass over them): what trl feeds, cut at max_seq_len, padding apart."""
    from tuning.data import load_examples
    from tuning.data.lengths import example_lengths, load_tokenizer

    examples = load_examples(data_file, None).examples
    tokenizer, _ = load_tokenizer(model)
    return len(examples), sum(min(length.total, max_seq_len) for length in example_lengths(examples, tokenizer))


def main() -> str:
    from bench.tables import header, row
    from lm.offline import SMOLLM2, pull

    model = str(pull(SMOLLM2).path)
    rows, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for n, (title, arms, finetune) in enumerate(SCHEMES):
            load_before = os.getloadavg()[0]
            spec, results, data_file = run(title, arms, finetune, model, Path(tmp) / f"s{n}")
            first = first or results
            hybrid = results.arms["finetuned_rag"]
            training = next(t for t in results.trainings.values() if "finetuned_rag" in t.arms)
            count, per_pass = training_tokens(data_file, model, spec.finetune.max_seq_len)
            fed = round(per_pass / count * training.steps * BATCH)
            right = round(hybrid.answer_correct * hybrid.questions)
            rows.append(row(title, hybrid, [
                f"{count} rows, {training.steps} steps", f"{per_pass / count:.0f}", f"{fed:,}",
                f"{right / fed * 1e5:.1f}" if fed else "-",
                f"{training.seconds:.0f} (load {load_before:.1f}-{os.getloadavg()[0]:.1f})"]))
            print(rows[-1], flush=True)
    rag = first.arms["rag"]
    lines = ["# Training the hybrid on fewer wasted tokens", "",
             f"SmolLM2-135M-Instruct (Q4_1 GGUF dequantized), bench/data/fictional_facts: {first.eval_examples} "
             f"held-out questions, {first.train_examples} training examples, k = 3 passages of up to 800 characters "
             f"(hit@3 {rag.hit_at_k:.2f}), LoRA r=16 for {STEPS} steps at batch {BATCH}, greedy, at most 32 new "
             f"tokens; {os.cpu_count()} CPU cores shared with other jobs (load average before-after each run "
             "beside its seconds). Rows: the hybrid arm (fine-tuned + RAG; held-out questions always get the k "
             "retrieved passages) with its adapter trained on each kind of prompt. Tokens: prompt + answer as "
             "trl tokenizes them (chat template included), padding apart; fed = per row x steps x batch.", "",
             *header(["training", "tokens per row", "tokens fed", "right per 100k tokens", "training s"]),
             row("base + RAG (no training)", rag, ["-", "-", "-", "-", "-"]), *rows, ""]
    return "\n".join(lines)
