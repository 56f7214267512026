"""The conversion cache: a base model's GGUF under the home's cache, keyed by the folder's content;
an adapter's merged GGUF in its run folder; nothing that passes for a GGUF after a failed or
killed conversion."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from lm.conversion import MERGED_PREFIX, cache_key, converted_gguf
from lm.errors import ModelError


@pytest.fixture
def tiny_copy(tiny_model_dir, tmp_path):
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_model_dir, folder)
    return folder


def test_a_base_model_converts_once_into_the_homes_cache(tiny_copy):
    from common.settings import load_settings

    first = converted_gguf(str(tiny_copy))
    assert first.parent == load_settings().cache_dir / "gguf"
    assert first.name == f"tiny-{cache_key(tiny_copy)}.gguf" and first.read_bytes()[:4] == b"GGUF"
    written = first.stat().st_mtime_ns
    assert converted_gguf(str(tiny_copy)) == first and first.stat().st_mtime_ns == written  # cached
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no partial left


def test_the_key_follows_the_folders_content_not_its_dates(tiny_copy):
    key = cache_key(tiny_copy)
    config = tiny_copy / "config.json"
    config.write_text(config.read_text())  # same content, new mtime
    assert cache_key(tiny_copy) == key
    config.write_text(json.dumps({**json.loads(config.read_text()), "rms_norm_eps": 1e-5}))
    assert cache_key(tiny_copy) != key


def test_an_adapters_merged_gguf_lives_in_its_run_folder(lora_run, tiny_model_dir):
    path = converted_gguf(str(tiny_model_dir), str(lora_run / "adapter"))
    assert path.parent == lora_run and path.name.startswith(MERGED_PREFIX)
    stale = lora_run / f"{MERGED_PREFIX}0000000000000000.gguf"  # what an earlier adapter of the run left
    stale.write_bytes(b"GGUF")
    path.unlink()
    assert converted_gguf(str(tiny_model_dir), str(lora_run / "adapter")) == path
    assert not stale.exists()


def test_a_model_that_does_not_convert_is_one_line(tiny_copy):
    (tiny_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelError) as err:
        converted_gguf(str(tiny_copy))
    assert str(err.value) == ("model: tiny: it has no tokenizer.json (a fast tokenizer): it does not convert to a "
                              "GGUF for OpenVINO")


def test_what_a_killed_conversion_left_goes_and_a_living_ones_stays(tiny_copy):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    target_name = f"tiny-{cache_key(tiny_copy)}.gguf"
    from common.settings import load_settings

    cache = load_settings().cache_dir / "gguf"
    cache.mkdir(parents=True)
    killed = cache / f".{target_name}.partial-{dead.stdout.strip()}"
    living = cache / f".{target_name}.partial-{os.getppid()}"
    killed.write_bytes(b"GGUF half")
    living.write_bytes(b"GGUF half")
    converted_gguf(str(tiny_copy))
    assert not killed.exists() and living.exists()


def test_a_full_disk_leaves_no_gguf_and_no_partial(tiny_copy, small_disk, monkeypatch):
    """The tiny model's GGUF (~290 KB) does not fit a 256 KiB disk: the write fails midway."""
    monkeypatch.setenv("FTADVISOR_HOME", str(small_disk))
    with pytest.raises(OSError):
        converted_gguf(str(tiny_copy))
    assert list((small_disk / "cache" / "gguf").iterdir()) == []
