"""SmolLM2-135M-Instruct offline on this machine: pull time, load time of the pulled folder, and
greedy tokens/s one question at a time and 8 at once, in float32 and bfloat16, with whether the
batched answers equal the one-at-a-time ones; then single-request latency on a small sample.

Medians over REPEATS runs, dtypes and batch sizes alternating within each (the machine is shared:
its load average at the start and at the end is printed with the figures).
Tokens/s counts each answer's own new tokens (up to and with its eos) over the wall time of all
the generate() calls.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

REPEATS = 3
NEW_TOKENS = 32
QUESTIONS = [
    "What is the capital of France?",
    "Name three primary colors.",
    "What is 12 times 7?",
    "Write a SQL query that counts the rows of the table users.",
    "Who wrote Romeo and Juliet?",
    "Explain in one sentence what a database index is.",
    "Translate 'good morning' into Spanish.",
    "What is the boiling point of water in Celsius?",
]
DTYPES = ("float32", "bfloat16")


def _median_s(fn, repeats: int = REPEATS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _pull_figures(home: Path) -> tuple[list[str], Path]:
    from lm.offline import SMOLLM2, pull

    cold = pull(SMOLLM2, home / SMOLLM2)
    warm = pull(SMOLLM2, home / SMOLLM2)
    lines = [f"- pull, first time (GGUF read, dequantized, saved in bf16): {cold.seconds:.1f} s; "
             f"again (already there): {warm.seconds * 1000:.1f} ms"]
    return lines, cold.path


def _dtype_rows(folder: Path) -> tuple[list[str], dict[str, list]]:
    """Per dtype: load time, tokens/s at batch 1 and 8, batched == single. The runs alternate
    dtypes and batch sizes within each repeat, so a change in the machine's load hits all alike."""
    from lm.generate import generate_answers, load_for_inference

    loads = {d: _median_s(lambda d=d: load_for_inference(str(folder), dtype=d)) for d in DTYPES}
    runs: dict[tuple[str, int], list[float]] = {(d, b): [] for d in DTYPES for b in (1, 8)}
    answers: dict[tuple[str, int], list] = {}
    for _ in range(REPEATS):
        for (dtype, batch), rates in runs.items():
            started = time.perf_counter()
            answers[dtype, batch] = generate_answers(loads[dtype][1], QUESTIONS, NEW_TOKENS, batch_size=batch)
            rates.append(sum(a.completion_tokens for a in answers[dtype, batch]) / (time.perf_counter() - started))
    rows = []
    for dtype in DTYPES:
        same = sum(a.text == b.text for a, b in zip(answers[dtype, 1], answers[dtype, 8], strict=True))
        rows.append(f"| {dtype} | {loads[dtype][0]:.2f} | {statistics.median(runs[dtype, 1]):.1f} | "
                    f"{statistics.median(runs[dtype, 8]):.1f} | {same}/{len(QUESTIONS)} |")
    return rows, {dtype: answers[dtype, 1] for dtype in DTYPES}


def main() -> str:
    import torch

    from lm.generate import load_for_inference, measure_latency

    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        pull_lines, folder = _pull_figures(Path(tmp))
        rows, answers = _dtype_rows(folder)
        latency = measure_latency(load_for_inference(str(folder)), QUESTIONS, NEW_TOKENS, sample=5)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out = [
        "## SmolLM2-135M-Instruct offline (Q4_1-dequantized weights, not the original bf16 release)", "",
        f"{os.cpu_count()} cores, torch {torch.__version__} with {torch.get_num_threads()} threads, load average "
        f"(1, 5, 15 min) at the start {load_before}, at the end {load}; greedy, {NEW_TOKENS} new tokens at most, "
        f"{len(QUESTIONS)} questions, medians of {REPEATS}.", "",
        *pull_lines, "",
        "| dtype | load of the pulled folder (s) | tokens/s one at a time | tokens/s 8 at once | "
        "batched answers equal to one at a time |",
        "|---|---|---|---|---|",
        *rows, "",
        f"Single requests (float32, one after the other, after a warm-up): median {latency.median_latency_s:.2f} s, "
        f"max {latency.max_latency_s:.2f} s over {latency.requests}, {latency.tokens_per_s:.1f} tokens/s.", "",
        "| question | float32 | bfloat16 |", "|---|---|---|",
    ]
    for q, a32, a16 in zip(QUESTIONS, answers["float32"], answers["bfloat16"], strict=True):
        cells = [' '.join(a.text.split()).replace('|', '\\|') for a in (a32, a16)]
        out.append(f"| {q} | {cells[0]} | {cells[1]} |")
    return "\n".join(out) + "\n"
