"""Estimator speed (one estimate, one fit table, every catalog model x method x GPU) and its
accuracy against the published measurements in bench/measurements/published.json."""
from __future__ import annotations

import statistics
import time

from common.vocabulary import ESTIMATE_METHODS, QUANT_OF


def _per_call_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _request(model: str, method: str):
    from estimator import EstimateRequest

    quant = QUANT_OF.get(method, "none")  # serving: the 16-bit model
    return EstimateRequest(model=model, method=method, quant=quant, train_tokens=10**8, gpu="H100 SXM")


def main() -> str:
    from bench.published import compare, compare_serving, markdown, serving_markdown
    from estimator import estimate, fit_table, list_gpus, list_models, load_model_spec

    req = _request("meta-llama/Llama-3.1-8B", "lora")
    spec = load_model_spec(req.model)
    one = _per_call_ms(lambda: estimate(req, spec), 200)
    one_by_name = _per_call_ms(lambda: estimate(req), 200)
    table = _per_call_ms(lambda: fit_table(req, spec), 50)
    models = [m.id for m in list_models()]
    start = time.perf_counter()
    for model in models:
        for method in ESTIMATE_METHODS:
            fit_table(_request(model, method))
    full_ms = (time.perf_counter() - start) * 1e3
    rows = compare()
    kept = [r for r in rows if not r.excluded]
    worst = max(abs(r.error) for r in kept)
    mean = sum(abs(r.error) for r in kept) / len(kept)
    serving = compare_serving()
    return "\n".join([
        "## Estimator",
        "",
        "| what | time |",
        "|---|---:|",
        f"| one estimate (Llama 3.1 8B LoRA, spec loaded) | {one:.3f} ms |",
        f"| one estimate by name (spec from the catalog) | {one_by_name:.3f} ms |",
        f"| one which-GPUs-fit table ({len(list_gpus())} GPUs x up to 7 GPU counts) | {table:.2f} ms |",
        f"| every catalog model x method x GPU ({len(models)} x {len(ESTIMATE_METHODS)} x {len(list_gpus())}) "
        f"| {full_ms:.0f} ms |",
        "",
        f"### Against published measurements ({len(kept)} cases checked, mean error {mean:.1%}, worst {worst:.1%})",
        "",
        markdown(rows),
        "",
        f"### Serving latency against published runs ({len(serving)} cases, mean error "
        f"{sum(abs(r.error) for r in serving) / len(serving):.1%})",
        "",
        serving_markdown(serving),
        "",
    ])


if __name__ == "__main__":
    print(main())
