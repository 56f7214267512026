"""The README's fictional-facts example: SmolLM2-135M-Instruct on facts only the documents hold
(bench/data/fictional_facts: 48 questions about an invented city), every arm with the comparison's
defaults, then the RAG arm again with the few-shot arm's demonstrations (`--rag-examples 4`).
Ranked by correct answers; the form apart. `python -m bench facts` (about 20 minutes on 2 cores).
The runs stay in the runs folder (`bench-facts-*`), to be opened on the Compare page.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

FACTS = Path(__file__).resolve().parent / "data" / "fictional_facts"


def run(model: str, output: Path, **fields):
    """One comparison of the facts with the defaults (and `fields`), waited for."""
    import runs
    from compare.launch import launch_comparison
    from compare.results import load_results
    from compare.spec import CompareSpec

    spec = CompareSpec(data=FACTS / "qa.jsonl", docs=[FACTS / "docs"], relevant_field="doc", model=model,
                       output=output, **fields)
    status = runs.wait(launch_comparison(spec), timeout_s=3 * 3600, poll_s=2)
    if status.state != "completed":
        raise SystemExit(f"the comparison ended {status.state}: {status.error}\n{runs.tail_log(output, 30)}")
    return load_results(output)


def main() -> str:
    from bench.tables import header, row
    from common.settings import load_settings
    from compare.spec import ARM_TITLES
    from lm.offline import SMOLLM2, pull

    model, settings = str(pull(SMOLLM2).path), load_settings()
    started = time.time()
    every = run(model, settings.new_run_dir("bench-facts"))
    wall = time.time() - started
    started = time.time()
    with_examples = run(model, settings.new_run_dir("bench-facts-rag-examples"), arms=["rag"],
                        prompting={"rag_examples": 4})
    wall_examples = time.time() - started
    rows = [row(ARM_TITLES[a], m) for a, m in every.arms.items()]
    rows.append(row("Base + RAG with 4 demonstrations (`--rag-examples 4`)", with_examples.arms["rag"]))
    split = every.arms["rag"].retrieval_split
    return "\n".join(
        [
            "# Facts only the documents hold: every arm, ranked by correct answers",
            "",
            f"SmolLM2-135M-Instruct (Q4_1 GGUF dequantized), bench/data/fictional_facts "
            f"with the comparison's defaults: "
            f"{every.eval_examples} held-out questions, {every.train_examples} training pairs, k = {every.k}, "
            f"{every.generation.get('max_new_tokens')} new tokens at most, greedy; "
            + "; ".join(
                f"{name}: {t.steps} steps on {t.prompts} prompts ({t.seconds:.0f} s)"
                for name, t in every.trainings.items()
            )
            + f". {os.cpu_count()} CPU cores; the run took {wall / 60:.1f} min, the RAG arm with demonstrations "
            f"{wall_examples / 60:.1f} min. `python -m bench facts`; runs {Path(every.run_dir).name} and "
            f"{Path(with_examples.run_dir).name}.",
            "",
            *header(),
            *rows,
            "",
            f"Retrieval split of Base + RAG: passage found and answer right {split.hit_correct}, found but wrong "
            f"{split.hit_wrong}, missed but right {split.miss_correct}, missed and wrong {split.miss_wrong}.",
            "",
            "The evidence paragraph:",
            "",
            f"> {every.evidence.paragraph}",
            "",
        ]
    )
