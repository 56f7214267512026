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
is written beside them. `python -m bench train_tokens` (15 minutes on 2 quiet cores, 3 hours
at load 8); `--tokens-only` prints the token table alone in seconds.
"""
from __future__ import annotations

import os
import tempfile
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


# Every scheme's training file, counted without training (`--tokens-only`), (b) oracle + 1 distractor
# included: the same as (a) wherever the --seq-len fit keeps 2 passages and the top 2 hold the oracle.
COUNTED = [*SCHEMES[:1], ("(b) oracle + 1 distractor", ["finetuned_rag"], {"train_passages": 2}), *SCHEMES[1:]]


def token_counts(model: str, folder: Path) -> list[str]:
    """Table rows: each scheme's training file, written from one split and one retrieval (no
    training), its tokens, and the share of a batch of 4 that would be padding (what trl's packing
    can save: it trains the same completion tokens, no padding; mean over 200 seeded shuffles)."""
    import json
    import random
    import shutil

    import runs
    from compare import files
    from compare.adapters import adapter_for
    from compare.finetune_setup import write_training_file
    from compare.metrics import answer_correct
    from compare.pipeline import Pipeline
    from compare.plan import BY_NAME
    from compare.spec import CompareSpec
    from tuning.data.lengths import load_tokenizer

    tokenizer, _ = load_tokenizer(model)
    rows, first = [], None
    for n, (title, arms, finetune) in enumerate(COUNTED):
        spec = CompareSpec(data=FACTS / "qa.jsonl", docs=[FACTS / "docs"], relevant_field="doc", model=model,
                           arms=arms, output=folder / f"t{n}", finetune={"batch_size": BATCH, **finetune})
        pipeline = Pipeline(runs.create_run(spec))
        if first is None:
            BY_NAME["split"].run(pipeline)
            BY_NAME["index"].run(pipeline)
            first = pipeline
        else:
            for name in (files.SPLIT, files.RETRIEVAL):
                shutil.copy(first.path(name), pipeline.path(name))
        adapter = adapter_for(spec, "finetuned_rag")
        write_training_file(pipeline, adapter)
        lengths = row_tokens(pipeline.path(adapter.data_file), tokenizer, spec.finetune.max_seq_len)
        lines = pipeline.path(adapter.data_file).read_text().splitlines()
        records = [json.loads(line) for line in lines if "Passages:" in line]
        with_passages = [record["prompt"].count("(source: ") for record in records]
        holding = sum(answer_correct(record["prompt"].rsplit("Question:", 1)[0], record["completion"])
                      for record in records)
        rng, real, padded = random.Random(0), 0, 0
        for _ in range(200):
            epochs = -(-STEPS * BATCH // len(lengths))
            order = [i for _ in range(epochs) for i in rng.sample(range(len(lengths)), len(lengths))]
            for start in range(0, STEPS * BATCH, BATCH):
                batch = [lengths[i] for i in order[start:start + BATCH]]
                real, padded = real + sum(batch), padded + BATCH * max(batch)
        per_row = sum(lengths) / len(lengths)
        rows.append(f"| {title} | {len(lengths)} | {sum(with_passages) / len(with_passages):.2f} | "
                    f"{holding:.0f} of {len(records)} | {per_row:.0f} | "
                    f"{sum(lengths):,} | {round(per_row * STEPS * BATCH):,} | {1 - real / padded:.2f} |")
    return ["| training prompts | rows | passages per retrieval prompt | retrieval prompts holding the answer "
            f"| tokens per row | tokens per pass | tokens fed ({STEPS} steps x {BATCH}) "
            f"| padding share at batch {BATCH} |",
            "|---|" + "---:|" * 7, *rows]


def cli(options: list[str]) -> int:
    """`python -m bench train_tokens --tokens-only`: the token table alone (seconds, no training)."""
    if options != ["--tokens-only"]:
        print("train_tokens takes --tokens-only", flush=True)
        return 2
    from lm.offline import SMOLLM2, pull

    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(token_counts(str(pull(SMOLLM2).path), Path(tmp))))
    return 0


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


def row_tokens(data_file: Path, tokenizer, max_seq_len: int) -> list[int]:
    """Tokens of each training row as trl feeds it (chat template, prompt and answer, cut at
    max_seq_len), padding apart."""
    from tuning.data import load_examples
    from tuning.data.lengths import example_lengths

    examples = load_examples(data_file, None).examples
    return [min(length.total, max_seq_len) for length in example_lengths(examples, tokenizer)]


def main() -> str:
    from bench.tables import row
    from lm.offline import SMOLLM2, pull
    from tuning.data.lengths import load_tokenizer

    model = str(pull(SMOLLM2).path)
    tokenizer, _ = load_tokenizer(model)
    rows, first = [], None
    with tempfile.TemporaryDirectory() as tmp:
        counted = token_counts(model, Path(tmp) / "counted")
        for n, (title, arms, finetune) in enumerate(SCHEMES):
            load_before = os.getloadavg()[0]
            spec, results, data_file = run(title, arms, finetune, model, Path(tmp) / f"s{n}")
            first = first or results
            hybrid = results.arms["finetuned_rag"]
            training = next(t for t in results.trainings.values() if "finetuned_rag" in t.arms)
            lengths = row_tokens(data_file, tokenizer, spec.finetune.max_seq_len)
            count, per_pass = len(lengths), sum(lengths)
            fed = round(per_pass / count * training.steps * BATCH)
            right = round(hybrid.answer_correct * hybrid.questions)
            rows.append(row(title, hybrid, [
                f"{count} rows, {training.steps} steps", f"{per_pass / count:.0f}", f"{fed:,}",
                f"{right / fed * 1e5:.1f}" if fed else "-",
                f"{training.seconds:.0f} (load {load_before:.1f}-{os.getloadavg()[0]:.1f})"]))
            print(rows[-1], flush=True)
    return document(first, rows, counted)


def document(first, rows: list[str], counted: list[str]) -> str:
    """The Markdown page: the measured rows (after base + RAG from the first run) and the counted ones."""
    from bench.tables import header, row

    rag = first.arms["rag"]
    lines = ["# Training the hybrid on fewer wasted tokens", "",
             f"SmolLM2-135M-Instruct (Q4_1 GGUF dequantized), bench/data/fictional_facts: {first.eval_examples} "
             f"held-out questions, {first.train_examples} training examples, k = 3 passages of up to 800 characters "
             f"(hit@3 {rag.hit_at_k:.2f}), LoRA r=16 for {STEPS} steps at batch {BATCH}, greedy, at most 32 new "
             f"tokens; {os.cpu_count()} CPU cores (the load average before-after each run beside its seconds: "
             "other jobs may share the cores). Rows: the hybrid arm (fine-tuned + RAG; held-out questions "
             "always get the k retrieved passages) with its adapter trained on each kind of prompt. Tokens: "
             "prompt + answer as trl tokenizes them (chat template included), padding apart; "
             "fed = per row x steps x batch.", "",
             *header(["training", "tokens per row", "tokens fed", "right per 100k tokens", "training s"]),
             row("base + RAG (no training)", rag, ["-", "-", "-", "-", "-"]), *rows, "",
             "Each scheme's training file, counted without training (`python -m bench train_tokens --tokens-only`; "
             "padding share: of a batch of 4 rows padded to the longest, what packing would not compute):", "",
             *counted, ""]
    return "\n".join(lines)
