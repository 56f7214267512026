"""Cost per query and break-even volumes on numbers worked out by hand."""
import pytest

from compare import costs


def _cost(arm: str, gpu_s: float, usd_per_hour: float, fixed_s: dict) -> costs.ArmCost:
    """An arm billed `gpu_s` GPU-seconds a query and `fixed_s` one-off seconds at the hourly price."""
    return costs.arm_cost(arm, costs.usd_for_seconds(gpu_s, usd_per_hour),
                          {k: costs.usd_for_seconds(v, usd_per_hour) for k, v in fixed_s.items()})


def test_arm_cost_per_query_per_thousand_and_fixed():
    c = _cost("rag", 0.36, 2.0, {"index": 1800})
    assert c.per_query_usd == pytest.approx(0.0002)  # 0.36 s = 1e-4 h at $2/h
    assert c.per_1k_queries_usd == pytest.approx(0.2)
    assert c.fixed_usd == pytest.approx(1.0)


def test_break_even_when_the_expensive_arm_has_cheaper_queries():
    ft = _cost("finetuned", 0.18, 2.0, {"train": 3600})  # fixed $2, $0.0001/query
    rag = _cost("rag", 0.36, 2.0, {"index": 0})  # fixed $0, $0.0002/query
    b = costs.break_even(rag, ft)
    assert (b.cheaper_after, b.than) == ("finetuned", "rag")
    assert b.queries == pytest.approx(20_000)


def test_break_even_never_when_the_expensive_arm_is_also_slower():
    ft = _cost("finetuned", 0.5, 2.0, {"train": 3600})
    base = _cost("base", 0.1, 2.0, {})
    b = costs.break_even(ft, base)
    assert b.queries is None and "always cheaper" in b.note


def test_break_evens_cover_every_pair():
    arms = [_cost(n, 0.1 * i + 0.1, 1.0, {"x": 10 * i}) for i, n in enumerate("abc")]
    assert len(costs.break_evens(arms)) == 3
