"""The comparison answers for real: SmolLM2-135M-Instruct on facts only the documents hold
(bench/data/fictional_facts: an invented city, 48 questions). The bare model cannot know them,
retrieval must beat it clearly, and the hybrid, trained on retrieval-augmented prompts (RAFT),
must beat both. Small enough for CI: 12 held-out questions, 24 training steps, 2 passages of
300 characters (~6 min on 2 cores)."""
from __future__ import annotations

from pathlib import Path

import pytest

import runs
from compare.launch import launch_comparison
from compare.results import load_results
from compare.spec import CompareSpec

pytestmark = pytest.mark.slow
FACTS = Path(__file__).resolve().parents[2] / "bench" / "data" / "fictional_facts"


def test_retrieval_beats_the_bare_model_and_the_hybrid_beats_both(smollm2_dir, tmp_path):
    spec = CompareSpec(
        data=FACTS / "qa.jsonl", docs=[FACTS / "docs"], relevant_field="doc", model=str(smollm2_dir),
        arms=["base", "rag", "finetuned_rag"], eval_fraction=0.25, output=tmp_path / "run",
        rag={"k": 2, "chunk_size": 300, "chunk_overlap": 50},
        finetune={"max_steps": 24, "batch_size": 4, "max_seq_len": 384},
        generation={"max_new_tokens": 24, "latency_sample": 1},
    )
    run_dir = launch_comparison(spec)
    status = runs.wait(run_dir, timeout_s=1800)
    assert status.state == "completed", runs.tail_log(run_dir, 30)
    results = load_results(run_dir)
    f1 = {arm: m.token_f1 for arm, m in results.arms.items()}
    assert results.eval_examples == 12
    assert f1["base"] < 0.15, f1  # nobody knows Velmora
    assert f1["rag"] >= f1["base"] + 0.1, f1
    assert f1["finetuned_rag"] >= max(f1["rag"], f1["base"]) + 0.2, f1
    assert results.arms["rag"].hit_at_k >= 0.75  # the passages were there to read
    assert results.evidence.best_arm == "finetuned_rag"
    assert "Fine-tuned + RAG (hybrid) scores best on token F1" in results.evidence.paragraph
