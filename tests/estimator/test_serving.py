"""The serving model: its arithmetic, how it moves with the workload, and its cost."""
import pytest

from estimator import ServingRequest, load_gpu, load_model_spec, serving_estimate
from estimator.errors import EstimatorError
from estimator.training_time import matmul_params


def serve(**kw):
    return serving_estimate(ServingRequest(**({"model": "llama-3.1-8b", "gpu": "H100 SXM"} | kw)))


def test_one_request_is_prefill_plus_bandwidth_bound_steps():
    spec, gpu = load_model_spec("llama-3.1-8b"), load_gpu("H100 SXM")
    e = serve(prompt_tokens=1000, output_tokens=101)
    m = matmul_params(spec)
    prefill = 1000 * (2 * m + 2 * 32 * 1000 * 4096) / (989.4e12 * 0.4)
    kv = 2 * 32 * 8 * 128 * 2  # k and v, 32 layers, 8 kv heads x 128, bf16
    step = (2 * spec.param_count() + (1000 + 50.5) * kv) / (3350e9 * 0.6)
    assert e.prefill_s == pytest.approx(prefill) and e.decode_step_s == pytest.approx(step)
    assert e.latency_s == pytest.approx(prefill + 100 * step)
    assert e.decode_bound == "memory bandwidth" and e.decode_tokens_per_s == pytest.approx(1 / step)
    assert e.usd_per_1k_queries == pytest.approx(1000 * e.latency_s * gpu.usd_per_hour / 3600)


def test_concurrency_shares_the_weights_and_lowers_the_cost():
    one, many = serve(prompt_tokens=200, output_tokens=200), serve(prompt_tokens=200, output_tokens=200, concurrency=32)
    assert many.latency_s > one.latency_s and many.total_tokens_per_s > 20 * one.total_tokens_per_s
    assert many.usd_per_1k_queries < one.usd_per_1k_queries / 10
    assert serve(prompt_tokens=200, output_tokens=200, concurrency=4096).decode_bound == "compute"


def test_longer_prompts_cost_more_and_4_bit_weights_decode_faster():
    assert serve(prompt_tokens=4000, output_tokens=50).usd_per_1k_queries > \
        serve(prompt_tokens=200, output_tokens=50).usd_per_1k_queries
    assert serve(prompt_tokens=200, output_tokens=50, quant="nf4").decode_step_s < \
        serve(prompt_tokens=200, output_tokens=50).decode_step_s / 2.5


def test_moe_reads_only_the_picked_experts_at_small_batch():
    alone = serve(model="mixtral-8x7b", prompt_tokens=100, output_tokens=100)
    dense_bytes = load_model_spec("mixtral-8x7b").param_count() * 2
    assert alone.decode_step_s < dense_bytes / (3350e9 * 0.6) / 2


def test_a_catalog_without_bandwidth_says_so(tmp_path, monkeypatch):
    import json

    from estimator.gpus import DEFAULT_CATALOG

    row = {k: v for k, v in json.loads(DEFAULT_CATALOG.read_text())["gpus"][0].items()
           if k not in ("memory_bandwidth_gbs", "bandwidth_source")}
    path = tmp_path / "gpus.json"
    path.write_text(json.dumps({"gpus": [row]}))
    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(path))
    with pytest.raises(EstimatorError, match="no memory_bandwidth_gbs"):
        serve(gpu="H200", prompt_tokens=10, output_tokens=10)
