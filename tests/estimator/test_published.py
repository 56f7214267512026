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


def test_calibration_cases_and_table_without_a_gpu():
    from bench import calibrate

    cases = calibrate.cases(calibrate.DEFAULT_MODELS)
    assert {c.method for c in cases} == {"lora", "qlora", "full"}
    assert {c.checkpointing for c in cases} == {True, False}
    assert {c.model for c in cases} == set(calibrate.DEFAULT_MODELS)
    case = cases[0]
    est_alloc, est_reserved = calibrate.estimate_row(case)
    rows = [calibrate.Row(case, est_alloc * 1.25, est_reserved * 1.25, est_alloc, est_reserved, 0.5),
            calibrate.Row(cases[1], None, None, est_alloc, est_reserved, error="OOM")]
    table = calibrate.markdown(rows, "Test GPU")
    assert "## Calibration on Test GPU" in table and "-20.0%" in table and "OOM" in table
    assert len(table.strip().splitlines()) == 6


SERVING_ROWS = compare_serving()


def test_serving_sources_are_described():
    data = load(SERVING)
    assert all(s["url"].startswith("https://") and s["conditions"] for s in data["sources"])
    assert {c["source"] for c in data["cases"]} <= {s["id"] for s in data["sources"]}


@pytest.mark.parametrize("row", SERVING_ROWS, ids=lambda r: f"{r.source}: {r.name}")
def test_serving_latency_within_15_percent(row):
    assert abs(row.error) <= 0.15, f"estimated {row.estimated_s} s vs measured {row.measured_s} s ({row.error:+.1%})"
