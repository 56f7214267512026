"""Each arm's cost: per query (the estimator's serving model at the chosen GPU, for the arm's
measured prompt and answer lengths: compare.stages.costs), one-off (indexing, training), and the
break-even volumes between arms. Total cost after N queries = fixed + N * per_query.
"""
from __future__ import annotations

from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field

from compare.spec import ARM_TITLES

SECONDS_PER_HOUR = 3600.0


class ArmCost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arm: str
    per_query_usd: float = Field(description="GPU-seconds a query costs at the chosen GPU x its price per second.")
    per_1k_queries_usd: float
    fixed_usd: float = Field(description="One-off cost at the chosen GPU: indexing and/or training.")
    fixed_parts: dict[str, float] = Field(default_factory=dict, description="Fixed cost by part (USD).")
    prompt_tokens: float | None = Field(None, description="The arm's measured mean prompt length, tokens.")
    output_tokens: float | None = Field(None, description="The arm's measured mean answer length, tokens.")
    latency_s: float | None = Field(None, description="Estimated latency per request at the chosen GPU.")


class BreakEven(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cheaper_after: str = Field(description="The arm with the larger fixed cost but cheaper queries.")
    than: str
    queries: float | None = Field(
        description="Query volume beyond which `cheaper_after` costs less in total; None when never."
    )
    note: str


def usd_for_seconds(seconds: float, usd_per_hour: float) -> float:
    """Seconds of one GPU at an hourly price, in USD."""
    return seconds / SECONDS_PER_HOUR * usd_per_hour


def arm_cost(arm: str, per_query_usd: float, fixed_usd: dict[str, float], **lengths: float | None) -> ArmCost:
    """Per-query, per-1,000-queries and fixed cost of one arm (`lengths`: prompt_tokens,
    output_tokens, latency_s for the record)."""
    return ArmCost(arm=arm, per_query_usd=per_query_usd, per_1k_queries_usd=per_query_usd * 1000,
                   fixed_usd=sum(fixed_usd.values()), fixed_parts=dict(fixed_usd), **lengths)


def break_even(a: ArmCost, b: ArmCost) -> BreakEven:
    """Solve F_a + c_a N = F_b + c_b N for N. The arm with the larger fixed cost wins after N
    queries only if its queries are cheaper; otherwise it never catches up."""
    hi, lo = (a, b) if a.fixed_usd >= b.fixed_usd else (b, a)
    d_fixed = hi.fixed_usd - lo.fixed_usd
    d_query = lo.per_query_usd - hi.per_query_usd
    if d_fixed == 0 and d_query == 0:
        return BreakEven(cheaper_after=hi.arm, than=lo.arm, queries=None, note="same cost at every volume")
    if d_fixed == 0:
        winner, loser = (hi, lo) if d_query > 0 else (lo, hi)
        return BreakEven(cheaper_after=winner.arm, than=loser.arm, queries=0.0,
                         note=f"{_t(winner.arm)} is cheaper from the first query")
    if d_query <= 0:
        return BreakEven(cheaper_after=hi.arm, than=lo.arm, queries=None,
                         note=f"{_t(hi.arm)} costs more up front and per query: {_t(lo.arm)} is always cheaper")
    n = d_fixed / d_query
    return BreakEven(cheaper_after=hi.arm, than=lo.arm, queries=n,
                     note=f"{_t(hi.arm)} becomes cheaper than {_t(lo.arm)} after {n:,.0f} queries")


def _t(arm: str) -> str:
    return ARM_TITLES.get(arm, arm)


def break_evens(costs: list[ArmCost]) -> list[BreakEven]:
    """The break-even volume for every pair of arms."""
    return [break_even(a, b) for a, b in combinations(costs, 2)]


def gpu_price(name: str) -> tuple[float, str]:
    """(USD per GPU-hour, where and when the price was taken) for a GPU catalog name."""
    from estimator.gpus import load_gpu

    gpu = load_gpu(name)
    return gpu.usd_per_hour, f"{gpu.name}: {gpu.price_source} ({gpu.price_date})"
