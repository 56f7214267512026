"""advisor.text: money in cents below a dollar, durations in days and years."""
import pytest

from advisor.text import duration, money, where


@pytest.mark.parametrize("usd,text", [
    (None, "-"), (0, "$0"), (0.004, "under 1 cent"), (0.01, "1 cent"), (0.42, "42 cents"),
    (1, "$1.00"), (37.5, "$37.50"), (12_400, "$12,400"),
])
def test_money(usd, text):
    assert money(usd) == text


@pytest.mark.parametrize("hours,text", [(0.1, "6 minutes"), (3.44, "3.4 hours"), (120, "5 days"),
                                        (24 * 365 * 2.3, "2.3 years")])
def test_duration(hours, text):
    assert duration(hours) == text


def test_where_names_the_sharding():
    from advisor.recommendation import MethodFit

    f = MethodFit(method="lora", gpu="A100 80GB", gpus=8, rented=False, gpu_memory_gib=79.3, memory_gib={},
                  total_gib=22.3, fits=True, sharding="fsdp")
    assert where(f) == "8 x A100 80GB (79 GiB each), FSDP full shard"
