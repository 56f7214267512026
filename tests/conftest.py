"""Shared test setup: never touch the network, never write into the repository."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny Llama model + tokenizer built offline once per test session (~4 s)."""
    from lm.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """ftadvisor's home (runs, stores) goes to a temp folder, never the user's or the repo."""
    monkeypatch.setenv("FTADVISOR_HOME", str(tmp_path / "ftadvisor-home"))


def pytest_collection_modifyitems(config, items):
    """Skip `gpu`-marked tests without a CUDA GPU (torch is imported only when some are collected)."""
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch sees none)")
    for item in gpu_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory):
    """SmolLM2-135M-Instruct pulled once per test session (30-80 s on 2 shared cores), into a
    session home's models folder: point FTADVISOR_HOME at `smollm2_dir.parent.parent` to find it
    where `pull(name)` and `--model smollm2-135m-instruct` look."""
    from lm.offline import SMOLLM2, pull

    home = tmp_path_factory.mktemp("offline-home")
    return pull(SMOLLM2, home / "models" / SMOLLM2).path


@pytest.fixture
def small_disk(tmp_path):
    """A real 256 KiB file system (tmpfs) mounted in tmp_path, for a full disk or a read-only
    folder without faking the error (as root, chmod does not stop writes). `fill_disk(folder)`
    fills it; `make_read_only(folder)` remounts it read-only. Needs the right to mount (root, as
    on this project's machines and CI): skipped without it."""
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): needs root")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill_disk(folder):
    """Write zeros into folder/filler until the file system says it is full (ENOSPC)."""
    import errno

    with open(folder / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def make_read_only(disk):
    import subprocess

    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
