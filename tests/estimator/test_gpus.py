"""The GPU catalog: every row valid, loose names, close-name errors, the user override."""
import json

import pytest

from estimator.errors import EstimatorError
from estimator.gpus import DEFAULT_CATALOG, list_gpus, load_gpu

REQUIRED = ["H200", "H100 SXM", "H100 PCIe", "A100 80GB", "A100 40GB", "L40S", "A10G", "L4", "T4",
            "RTX 4090", "RTX 3090", "V100"]


def test_catalog_has_the_issue_gpus():
    assert [g.name for g in list_gpus()] == REQUIRED


@pytest.mark.parametrize("gpu", list_gpus(), ids=lambda g: g.name)
def test_every_row_is_plausible(gpu):
    assert 10 < gpu.memory_gib < 150 and gpu.memory_gib <= gpu.memory_gb
    assert gpu.fp16_tflops > gpu.fp32_tflops
    assert (gpu.bf16_tflops is not None) == gpu.bf16
    assert gpu.usd_per_hour > 0 and gpu.price_source.strip() and gpu.price_date[:2] == "20"
    assert 250 <= gpu.memory_bandwidth_gbs <= 5000 and gpu.bandwidth_source.strip()


def test_bf16_support():
    assert not load_gpu("T4").bf16 and not load_gpu("V100").bf16
    assert load_gpu("A10G").bf16 and load_gpu("T4").peak_tflops("bf16") == load_gpu("T4").fp16_tflops


@pytest.mark.parametrize("name,expected", [("H100 SXM", "H100 SXM"), ("h100-sxm", "H100 SXM"),
                                           ("h100_sxm", "H100 SXM"), ("A100 80GB", "A100 80GB"),
                                           ("a100-80gb", "A100 80GB"), ("RTX 4090", "RTX 4090"),
                                           ("rtx4090", "RTX 4090"), ("l40s", "L40S")])
def test_loose_names(name, expected):
    assert load_gpu(name).name == expected


def test_unknown_gpu_lists_close_names():
    with pytest.raises(EstimatorError, match=r"gpu: unknown GPU 'H100 SXM6'; close names: .*H100 SXM"):
        load_gpu("H100 SXM6")


def test_catalog_override(tmp_path, monkeypatch):
    data = json.loads(DEFAULT_CATALOG.read_text())
    data["gpus"] = [dict(data["gpus"][0], name="My GPU", aliases=[], usd_per_hour=0.01)]
    path = tmp_path / "gpus.json"
    path.write_text(json.dumps(data))
    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(path))
    assert [g.name for g in list_gpus()] == ["My GPU"]
    assert load_gpu("my-gpu").usd_per_hour == 0.01


def test_a_changed_variable_or_file_is_seen(tmp_path, monkeypatch):
    data = json.loads(DEFAULT_CATALOG.read_text())
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"gpus": [dict(data["gpus"][0], name="First", aliases=[])]}))
    second.write_text(json.dumps({"gpus": [dict(data["gpus"][0], name="Second", aliases=[])]}))
    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(first))
    assert [g.name for g in list_gpus()] == ["First"]
    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(second))
    assert [g.name for g in list_gpus()] == ["Second"]
    monkeypatch.delenv("FTADVISOR_GPU_CATALOG")
    assert len(list_gpus()) == len(REQUIRED)


def test_bad_catalog_row_names_the_field(tmp_path, monkeypatch):
    path = tmp_path / "gpus.json"
    path.write_text(json.dumps({"gpus": [{"name": "X"}]}))
    monkeypatch.setenv("FTADVISOR_GPU_CATALOG", str(path))
    with pytest.raises(EstimatorError, match="row 0 \\(X\\): memory_gb"):
        list_gpus()
