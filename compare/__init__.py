"""The comparison run: the base model (prompting), RAG, a QLoRA/LoRA fine-tuned model and the
hybrid answer the same held-out questions; metrics, memory, time and cost per arm.

    spec = CompareSpec(data="qa.csv", mapping=FieldMapping(prompt_field="question", completion_field="query"),
                       docs=["schemas/"], model="meta-llama/Llama-3.2-1B", output="runs/compare")
    run_dir = launch_comparison(spec)          # detached worker: python -m compare.worker RUN_DIR
    results = load_results(run_dir)            # once runs.refresh_status(run_dir).state == "completed"

Import-light: torch, transformers, peft, chromadb load only in the worker's stages.
"""
from compare.errors import CompareError
from compare.launch import launch_comparison, preflight
from compare.results import ArmMetrics, Results, answers_key, find_comparison, load_results
from compare.spec import ARMS, CompareSpec

__all__ = [
    "ARMS", "ArmMetrics", "CompareError", "CompareSpec", "Results", "answers_key", "find_comparison",
    "launch_comparison", "load_results", "preflight",
]
