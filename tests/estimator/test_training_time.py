"""FLOPs per token, time, cost, and the which-GPUs-fit table."""
import pytest

from estimator import EstimateRequest, estimate, fit_table, list_gpus, load_gpu, load_model_spec
from estimator.training_time import cost_usd, flops_per_token, matmul_params, training_hours


@pytest.fixture(scope="module")
def spec():
    return load_model_spec("meta-llama/Llama-3.1-8B")


def req(**kw):
    return EstimateRequest(model="meta-llama/Llama-3.1-8B", **kw)


def test_matmul_params_exclude_the_embedding_lookup(spec):
    assert matmul_params(spec) == 8_030_261_248 - 128256 * 4096 - (2 * 32 + 1) * 4096


def test_full_is_6m_plus_attention(spec):
    m = matmul_params(spec)
    attn = 12 * 32 * 2048 * 4096
    assert flops_per_token(req(method="full", seq_len=2048), spec).per_token == 6 * m + attn


def test_lora_skips_frozen_weight_gradients(spec):
    m, a = matmul_params(spec), 41_943_040
    attn = 12 * 32 * 2048 * 4096
    assert flops_per_token(req(method="lora", seq_len=2048), spec).per_token == 4 * m + 6 * a + attn
    ckpt = flops_per_token(req(method="lora", seq_len=2048, gradient_checkpointing=True), spec).per_token
    assert ckpt == 4 * m + 6 * a + attn + 2 * (m - 128256 * 4096) + attn / 3


def test_time_and_cost(spec):
    gpu = load_gpu("H100 SXM")
    r = req(method="full", gpus=8, sharding="zero3", train_tokens=10**9, epochs=2, mfu=0.5)
    hours, how = training_hours(r, spec, gpu, 8)
    expected = 2e9 * flops_per_token(r, spec).per_token / (8 * 989.4e12 * 0.5) / 3600
    assert hours == pytest.approx(expected)
    assert cost_usd(hours, gpu, 8) == pytest.approx(hours * 8 * 2.99)
    assert "MFU 0.5" in how
    q = req(method="qlora", quant="nf4", train_tokens=10**9)
    lora = req(method="lora", train_tokens=10**9)
    assert training_hours(q, spec, gpu, 1)[0] == pytest.approx(1.6 * training_hours(lora, spec, gpu, 1)[0])


def test_estimate_has_time_and_cost_only_with_gpu_and_tokens(spec):
    assert estimate(req(method="lora"), spec).time_hours is None
    e = estimate(req(method="lora", gpu="A100 80GB", train_tokens=10**8), spec)
    assert e.time_hours > 0 and e.cost_usd == pytest.approx(e.time_hours * 1.79)


def test_fit_table_cheapest_first_with_fewest_gpus(spec):
    rows = fit_table(req(method="full", stack="peft-trainer", train_tokens=10**8, gradient_checkpointing=True,
                       loss="chunked"), spec)
    assert {r.gpu for r in rows} == {g.name for g in list_gpus()}
    fitting = [r for r in rows if r.min_gpus]
    costs = [r.cost_usd for r in fitting]
    assert costs == sorted(costs) and rows[: len(fitting)] == fitting
    h100 = next(r for r in rows if r.gpu == "H100 SXM")
    assert not h100.fits and h100.min_gpus > 1 and h100.sharding == "zero3"  # 8B full FT needs ~128 GiB
    assert h100.total_gib <= 79.6
    t4 = next(r for r in rows if r.gpu == "T4")
    assert t4.min_gpus is None and "bf16" in t4.note


def test_fit_table_without_tokens_orders_by_hourly_price(spec):
    rows = fit_table(req(method="qlora", quant="nf4", gradient_checkpointing=True, precision="fp16"), spec)
    fitting = [r for r in rows if r.min_gpus]
    prices = [r.usd_per_hour * r.min_gpus for r in fitting]
    assert prices == sorted(prices) and all(r.time_hours is None for r in rows)
