"""The CPU calibration's smallest row, for real: our recipe trains SmolLM2-135M's shape for two steps
and its live tensor peak lands within 10% of the `--device cpu` estimate; the tracker counts what
it should."""
import pytest

from bench import calibrate_cpu


def test_the_tracker_counts_live_storages_once_and_frees_them():
    import torch

    with calibrate_cpu.live_tensors_mode() as tracker:
        a = torch.ones(1024, 1024)  # 4 MiB
        view = a[:10]  # shares a's storage
        b = a * 2  # 4 MiB more
        del b
        c = torch.zeros(256, 1024)  # 1 MiB, after b is gone
    assert tracker.peak == 8 * 2**20 and tracker.live == 5 * 2**20
    assert view.untyped_storage().nbytes() == 4 * 2**20 and c.numel() == 256 * 1024


@pytest.mark.slow
def test_smallest_row_within_10_percent(tmp_path):
    [row] = calibrate_cpu.run(calibrate_cpu.SETUPS[:1], workdir=tmp_path)
    assert row.measured_gib > 0.5 and abs(row.error) <= calibrate_cpu.TOLERANCE, row.as_dict()
