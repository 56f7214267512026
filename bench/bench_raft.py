"""What the hybrid's adapter should train on: bare questions, retrieval-augmented prompts (RAFT,
Zhang et al. 2024, arXiv:2403.10131) or a mix of both, measured with SmolLM2-135M-Instruct on
facts only the documents hold (bench/data/fictional_facts: 48 questions about an invented city).

The same comparison three times, only `--train-prompts` changing: 12 held-out questions, k = 2
passages of 300 characters, 30 LoRA steps at batch 4 (the CPU step budget), greedy answers of at
most 24 tokens. `python -m bench raft` (about 15 minutes on 2 cores).
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

FACTS = Path(__file__).resolve().parent / "data" / "fictional_facts"
STYLES = {"bare": "bare questions", "mix": "both (each question twice)", "retrieval": "retrieval prompts (RAFT)"}


def run(style: str, model: str, output: Path):
    """One comparison (base, rag, hybrid) whose hybrid adapter trained on `style` prompts."""
    import runs
    from compare.launch import launch_comparison
    from compare.results import load_results
    from compare.spec import ARMS, RETRIEVAL_ARMS, CompareSpec

    spec = CompareSpec(
        data=FACTS / "qa.jsonl", docs=[FACTS / "docs"], relevant_field="doc", model=model,
        arms=[arm for arm in ARMS if arm == "base" or arm in RETRIEVAL_ARMS], eval_fraction=0.25, output=output,
        rag={"k": 2, "chunk_size": 300, "chunk_overlap": 50},
        finetune={"max_steps": 30, "batch_size": 4, "max_seq_len": 384,
                  "train_prompts": "separate" if style == "retrieval" else style},
        generation={"max_new_tokens": 24, "latency_sample": 1},
    )
    status = runs.wait(launch_comparison(spec), timeout_s=3600, poll_s=2)
    if status.state != "completed":
        raise SystemExit(f"{style}: the comparison ended {status.state}: {status.error}\n{runs.tail_log(output, 30)}")
    return load_results(output)


def main() -> str:
    from bench.tables import header, row
    from lm.offline import SMOLLM2, pull

    model = str(pull(SMOLLM2).path)
    rows, first, wall = [], None, {}
    with tempfile.TemporaryDirectory() as tmp:
        for style in STYLES:
            started = time.time()
            results = run(style, model, Path(tmp) / style)
            wall[style] = time.time() - started
            first = first or results
            hybrid, [training] = results.arms["finetuned_rag"], list(results.trainings.values())
            rows.append(
                row(
                    f"hybrid trained on {STYLES[style]}",
                    hybrid,
                    [
                        f"{training.train_examples * (2 if style == 'mix' else 1)} rows, {training.steps} steps",
                        f"{training.seconds:.0f}",
                    ],
                )
            )
    base, rag = first.arms["base"], first.arms["rag"]
    lines = ["# What the hybrid trains on: bare, retrieval-augmented (RAFT) or mixed prompts", "",
             f"SmolLM2-135M-Instruct (Q4_1 GGUF dequantized), bench/data/fictional_facts: {first.eval_examples} "
             f"held-out questions, {first.train_examples} training examples, k = 2 passages of 300 characters "
             f"(hit@2 {rag.hit_at_k:.2f}), LoRA r=16 for 30 steps at batch 4, greedy, at most 24 new tokens; "
             f"{os.cpu_count()} CPU cores. Runs: " + ", ".join(f"{s} {w / 60:.1f} min" for s, w in wall.items()) + ".",
             "", *header(["training", "training s"]),
             row("base model (zero-shot)", base, ["-", "-"]), row("base + RAG", rag, ["-", "-"]), *rows, ""]
    return "\n".join(lines)
