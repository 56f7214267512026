"""CPU engines against transformers float32 on the same RAG-sized prompts, in one run.

SmolLM2-135M-Instruct (the pulled folder), the project's RAG prompt (rag_baseline.answer:
instructions, three numbered passages of ~800 characters from bench/data/fictional_facts, the
question) for 8 questions spread over the six documents, greedy, NEW_TOKENS new tokens at most.
Engines, each through lm.generate.generate_answers in its own process on every core:
- transformers-fp32: the reference (`engine="transformers"`);
- openvino-f16-exact: what `auto` runs on a CPU (`engine="openvino"`: a GGUF with F16 weights
  written by lm.conversion, float32 compute, f32 KV cache);
- openvino-f16-defaults: the same file with the CPU plugin's default properties (bf16 compute on
  CPUs with AVX512_BF16 or AMX, u8 KV cache), to show what float32 buys.

Each round answers the 8 prompts at once (batch 8), then one at a time, then the 8 with one new
token (prefill alone), engine after engine, so each ratio is against the transformers run of the
same round (the machine may be shared: the load average is printed). tokens/s = new tokens (up to
and with the eos) / wall time, prefill included. Greedy parity: answers (text and token count)
equal to transformers' one-at-a-time answers; for each differing one, the first differing token
of the two texts re-encoded and the reference's logit gap there (a near-tie when small).

    python -m bench engines          # writes bench/results/engines.md
    python -m bench engines --json   # {"engines": [{"engine", "tokens_per_s", "ratio", ...}], "chosen": ...}
"""
from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

NEW_TOKENS = 64
ROUNDS = 2
BATCH = 8
REFERENCE = "transformers-fp32"
CHOSEN = "openvino-f16-exact"
ENGINES = (REFERENCE, CHOSEN, "openvino-f16-defaults")
DATA = Path(__file__).parent / "data" / "fictional_facts"


def rag_prompts(n: int = 8, passage_chars: int = 800) -> list[str]:
    """n RAG prompts: each question with its own document's passage first, then two others."""
    from rag_baseline.answer import build_rag_prompt
    from rag_baseline.schemas import SearchHit

    docs = {p.stem: p.read_text(encoding="utf-8").strip() for p in sorted((DATA / "docs").glob("*.md"))}
    names = list(docs)
    qa = [json.loads(line) for line in (DATA / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    prompts = []
    for item in qa[:: len(qa) // n][:n]:
        first = names.index(item["doc"])
        hits = []
        for k in range(3):
            a, b = names[(first + 2 * k) % len(names)], names[(first + 2 * k + 1) % len(names)]
            text = (docs[a] + "\n\n" + docs[b])[:passage_chars]
            hits.append(SearchHit(rank=k + 1, score=1.0, source=f"{a}.md", text=text, position=0, id=f"{a}-{k}"))
        prompts.append(build_rag_prompt(item["prompt"], hits))
    return prompts


def _load(name: str, folder: str) -> tuple[tuple, dict]:
    """The loaded engine (a (model, tokenizer) pair) and what preparing it cost, in seconds."""
    from lm.generate import load_for_inference

    if name == REFERENCE:
        started = time.perf_counter()
        return load_for_inference(folder), {"load_s": time.perf_counter() - started}
    from lm.conversion import converted_gguf
    from lm.loading import load_tokenizer
    from lm.openvino_runner import OpenVinoModel

    started = time.perf_counter()
    gguf = converted_gguf(folder)
    convert_s = time.perf_counter() - started
    started = time.perf_counter()
    if name == CHOSEN:
        loaded = load_for_inference(folder, engine="openvino")
    else:
        loaded = OpenVinoModel(gguf, folder, properties={}), load_tokenizer(folder)
    return loaded, {"convert_s": convert_s, "load_s": time.perf_counter() - started,
                    "disk_mb": gguf.stat().st_size / 1e6}


def _worker(conn, name: str, folder: str, home: str) -> None:
    os.environ["FTADVISOR_HOME"] = home  # a fresh cache: the conversion is timed
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lm.generate import generate_answers

    loaded, info = _load(name, folder)
    generate_answers(loaded, ["Hello"], 2, batch_size=1)  # one-off set-up, untimed
    conn.send(info)
    while (job := conn.recv()) is not None:
        prompts, new_tokens, batch = job
        started = time.perf_counter()
        out = generate_answers(loaded, prompts, new_tokens, batch_size=batch)
        conn.send(([(g.text, g.completion_tokens) for g in out], time.perf_counter() - started))


class _Engine:
    """One engine in its own process (spawned: no state shared with the others)."""

    def __init__(self, name: str, folder: str, home: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, name, folder, home), daemon=True)
        self.process.start()
        self.info = self.conn.recv()

    def run(self, prompts: list[str], new_tokens: int, batch: int) -> tuple[list, float]:
        self.conn.send((prompts, new_tokens, batch))
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(60)


def _round(engine: _Engine, prompts: list[str]) -> dict:
    batched, batched_s = engine.run(prompts, NEW_TOKENS, BATCH)
    single, single_s = [], 0.0
    for prompt in prompts:
        out, seconds = engine.run([prompt], NEW_TOKENS, 1)
        single += out
        single_s += seconds
    _, prefill_s = engine.run(prompts, 1, BATCH)
    return {"batched": batched, "batched_s": batched_s, "single": single, "single_s": single_s,
            "prefill_s": prefill_s}


def measure(folder: str, prompts: list[str], prompt_tokens: int) -> tuple[list[dict], dict]:
    """Per engine the contract's figures and the answers; the rounds interleave the engines."""
    rounds: dict[str, list[dict]] = {name: [] for name in ENGINES}
    with tempfile.TemporaryDirectory() as home:
        engines = {name: _Engine(name, folder, home) for name in ENGINES}
        try:
            for _ in range(ROUNDS):
                for name, engine in engines.items():
                    rounds[name].append(_round(engine, prompts))
        finally:
            for engine in engines.values():
                engine.close()
    reference = rounds[REFERENCE][-1]["single"]

    def rate(r: dict, kind: str) -> float:
        return sum(n for _, n in r[kind]) / r[f"{kind}_s"]

    def paired(name: str) -> zip:
        """The engine's rounds beside the reference's of the same round."""
        return zip(rounds[name], rounds[REFERENCE], strict=True)

    def ratio(name: str, kind: str) -> float:
        return statistics.median(rate(r, kind) / rate(ref, kind) for r, ref in paired(name))

    rows = []
    for name in ENGINES:
        last = rounds[name][-1]
        rows.append({
            "engine": name,
            "tokens_per_s": round(statistics.median(rate(r, "batched") for r in rounds[name]), 2),
            "ratio": round(ratio(name, "batched"), 2),
            "greedy_equal": sum(a == b for a, b in zip(last["batched"], reference, strict=True)),
            "prompts": len(prompts),
            "tokens_per_s_single": round(statistics.median(rate(r, "single") for r in rounds[name]), 2),
            "ratio_single": round(ratio(name, "single"), 2),
            "greedy_equal_single": sum(a == b for a, b in zip(last["single"], reference, strict=True)),
            "prefill_tokens_per_s": round(statistics.median(prompt_tokens / r["prefill_s"] for r in rounds[name]), 1),
            "prefill_ratio": round(statistics.median(ref["prefill_s"] / r["prefill_s"] for r, ref in paired(name)), 2),
            "batched_equal_single": sum(a == b for a, b in zip(last["batched"], last["single"], strict=True)),
            **{key: round(value, 2) for key, value in engines[name].info.items()},
        })
    answers = {name: rounds[name][-1] for name in ENGINES}
    return rows, answers


def near_ties(folder: str, prompts: list[str], answers: dict) -> list[str]:
    """One line per answer that differs from the reference: where, which tokens, the logit gap."""
    import torch

    from lm.generate import load_for_inference, prompt_text

    model, tok = load_for_inference(folder)
    reference = answers[REFERENCE]["single"]
    lines = []
    for name in ENGINES[1:]:
        for kind in ("batched", "single"):
            for i, ((ref_text, _), (text, _)) in enumerate(zip(reference, answers[name][kind], strict=True)):
                if ref_text == text:
                    continue
                a, b = (tok(t, add_special_tokens=False)["input_ids"] for t in (ref_text, text))
                j = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
                if j >= min(len(a), len(b)):
                    lines.append(f"- {name} {kind}, prompt {i}: one answer is the other cut short (eos at token {j})")
                    continue
                prefix = tok(prompt_text(tok, prompts[i]), add_special_tokens=False)["input_ids"] + a[:j]
                with torch.no_grad():
                    logits = model(input_ids=torch.tensor([prefix])).logits[0, -1]
                lines.append(f"- {name} {kind}, prompt {i}, answer token {j}: {tok.decode([a[j]])!r} -> "
                             f"{tok.decode([b[j]])!r}, reference logit gap {float(logits[a[j]] - logits[b[j]]):.2f}")
    return lines


def run() -> dict:
    import torch

    from lm.generate import prompt_tokens
    from lm.loading import load_tokenizer
    from lm.offline import SMOLLM2
    from lm.refs import resolve_model

    folder = resolve_model(SMOLLM2)
    prompts = rag_prompts()
    tok = load_tokenizer(folder)
    tokens = sum(prompt_tokens(tok, p) for p in prompts)
    load_before = os.getloadavg()
    started = time.perf_counter()
    rows, answers = measure(folder, prompts, tokens)
    return {"engines": rows, "chosen": CHOSEN, "prompt_tokens": tokens, "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "load_before": load_before, "load_after": os.getloadavg(),
            "minutes": (time.perf_counter() - started) / 60, "near_ties": near_ties(folder, prompts, answers),
            "answers": {name: [text for text, _ in answers[name]["batched"]] for name in ENGINES}}


def _table(result: dict) -> list[str]:
    lines = ["| engine | tokens/s, 8 at once | ratio | one at a time | ratio | prefill tokens/s | ratio | "
             "greedy equal, 8 at once | one at a time | convert s | load s | disk MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["engines"]:
        lines.append(f"| {r['engine']} | {r['tokens_per_s']:.2f} | {r['ratio']:.2f} | {r['tokens_per_s_single']:.2f} | "
                     f"{r['ratio_single']:.2f} | {r['prefill_tokens_per_s']:.0f} | {r['prefill_ratio']:.2f} | "
                     f"{r['greedy_equal']}/{r['prompts']} | {r['greedy_equal_single']}/{r['prompts']} | "
                     f"{r.get('convert_s', '-')} | {r['load_s']} | {r.get('disk_mb', '-')} |")
    return lines


def main() -> str:
    result = run()
    load = ", ".join(f"{x:.1f}" for x in result["load_before"]) + " at the start, " + \
        ", ".join(f"{x:.1f}" for x in result["load_after"]) + " at the end"
    out = [
        "## CPU engines against transformers float32 (SmolLM2-135M-Instruct, RAG prompts)", "",
        f"{result['cores']} cores (load average 1, 5, 15 min: {load}); 8 RAG prompts, {result['prompt_tokens']} "
        f"prompt tokens in all, greedy, {NEW_TOKENS} new tokens at most; {ROUNDS} rounds, medians; ratios against "
        f"transformers float32 in the same round; {result['minutes']:.0f} minutes. Chosen (`auto` on a CPU): "
        f"{result['chosen']}.", "",
        *_table(result), "",
        "Answers that differ from transformers' one-at-a-time answers:", "",
        *(result["near_ties"] or ["- none"]), "",
    ]
    return "\n".join(out)


def cli(options: list[str]) -> int:
    """`python -m bench engines --json`: the figures as JSON on stdout."""
    if options != ["--json"]:
        print(f"engines takes --json only, got {options}", file=sys.stderr)
        return 2
    result = run()
    keep = ("engines", "chosen", "prompt_tokens", "load_before", "load_after", "near_ties")
    print(json.dumps({key: result[key] for key in keep}))
    return 0
