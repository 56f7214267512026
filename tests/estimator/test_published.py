"""The estimate against published measurements (bench/measurements/published.json): within 10%
for 16-bit LoRA, full fine-tuning and inference, within 20% for QLoRA."""
import pytest

from bench.published import SERVING, compare, compare_serving, load

ROWS = compare()
TOLERANCE = {"lora": 0.10, "full": 0.10, "inference": 0.10, "qlora": 0.20}


def test_every_source_is_described():
    data = load()
    for source in data["sources"]:
        assert source["url"].startswith("https://") and source["conditions"] and source["date"]
    used = {c["source"] for c in data["cases"]}
    assert used <= {s["id"] for s in data["sources"]}
    assert {"lora", "qlora", "full"} <= {r.kind for r in ROWS if not r.excluded}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.source}: {r.name}")
def test_within_tolerance(row):
    assert row.tolerance <= TOLERANCE[row.kind]
    if row.excluded:
        pytest.skip(f"excluded: {row.excluded}")
    assert row.ok, f"estimated {row.estimated_gb} vs measured {row.measured_gb} ({row.error:+.1%})"


SERVING_ROWS = compare_serving()


def test_serving_sources_are_described():
    data = load(SERVING)
    assert all(s["url"].startswith("https://") and s["conditions"] for s in data["sources"])
    assert {c["source"] for c in data["cases"]} <= {s["id"] for s in data["sources"]}


@pytest.mark.parametrize("row", SERVING_ROWS, ids=lambda r: f"{r.source}: {r.name}")
def test_serving_latency_within_15_percent(row):
    assert abs(row.error) <= 0.15, f"estimated {row.estimated_s} s vs measured {row.measured_s} s ({row.error:+.1%})"
