"""Cost per query and break-even volumes on numbers worked out by hand."""
import pytest

from compare import costs


def test_arm_cost_bills_latency_at_the_hourly_price():
    c = costs.arm_cost("rag", mean_latency_s=0.36, usd_per_hour=2.0, fixed_seconds={"index": 1800})
    assert c.per_query_usd == pytest.approx(0.0002)  # 0.36 s = 1e-4 h at $2/h
    assert c.per_1k_queries_usd == pytest.approx(0.2)
    assert c.fixed_usd == pytest.approx(1.0)


def test_break_even_when_the_expensive_arm_has_cheaper_queries():
    ft = costs.arm_cost("finetuned", 0.18, 2.0, {"train": 3600})  # fixed $2, $0.0001/query
    rag = costs.arm_cost("rag", 0.36, 2.0, {"index": 0})  # fixed $0, $0.0002/query
    b = costs.break_even(rag, ft)
    assert (b.cheaper_after, b.than) == ("finetuned", "rag")
    assert b.queries == pytest.approx(20_000)


def test_break_even_never_when_the_expensive_arm_is_also_slower():
    ft = costs.arm_cost("finetuned", 0.5, 2.0, {"train": 3600})
    base = costs.arm_cost("base", 0.1, 2.0, {})
    b = costs.break_even(ft, base)
    assert b.queries is None and "always cheaper" in b.note


def test_break_evens_cover_every_pair():
    arms = [costs.arm_cost(n, 0.1 * i + 0.1, 1.0, {"x": 10 * i}) for i, n in enumerate("abc")]
    assert len(costs.break_evens(arms)) == 3
