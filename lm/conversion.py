"""The GGUF file OpenVINO runs for a model (and a LoRA adapter): converted once, then cached.

- A model folder (a pulled model, a folder, a hub id in the local Hugging Face cache, a run's
  merged/ or model/): `<home>/cache/gguf/<folder name>-<key>.gguf`, the key a SHA-256 over the
  converter's version, the gguf package's version and the folder's files (names and contents), so
  a changed folder converts again and a folder pulled twice does not.
- A LoRA adapter: merged into its float32 base with peft (`merge_and_unload`), written next to the
  adapter, as `<run folder>/merged-<key>.gguf` for a run's adapter/ (the key also covers the
  adapter's files; an older merged-*.gguf of that run is removed), else in the home's cache.

QLoRA adapters are not merged: they answer on a 4-bit NF4 base that a merged F16 file would not
reproduce (lm.engines keeps them on transformers).

A conversion writes a hidden `.<name>.partial-<pid>` file and renames it when whole, so a killed
conversion never leaves a file that passes for a GGUF (lm.offline's partials, removed by the next
conversion once their process is gone).
"""
from __future__ import annotations

import hashlib
import logging
import os
import time
from functools import lru_cache
from pathlib import Path

from lm.errors import ModelError
from lm.gguf_writer import CONVERTER_VERSION, conversion_problem, write_llama_gguf

log = logging.getLogger(__name__)
MERGED_PREFIX = "merged-"


def local_folder(source: str) -> Path | None:
    """The folder holding `source`'s files: the folder itself, or a hub id's snapshot in the local
    Hugging Face cache; None for a hub id that is not cached (nothing is downloaded here)."""
    path = Path(source)
    if path.is_absolute():
        return path
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(source, local_files_only=True))
    except LocalEntryNotFoundError:
        return None


def why_not_convertible(source: str, adapter: str | None) -> str | None:
    """Why `source` (+ `adapter`) has no GGUF for OpenVINO, as "<model>: it ...", or None."""
    folder = local_folder(source)
    if folder is None:
        return f"{source}: it is a hub id that is not in the local Hugging Face cache"
    why = conversion_problem(folder, Path(adapter) if adapter else None)
    return f"{folder.name}: {why}" if why else None


@lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's contents, once per process for an unchanged file (~1 s per 300 MB)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _folder_key(digest, folder: Path) -> None:
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}\0{_file_digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)}\0".encode())


def cache_key(folder: Path, adapter: Path | None = None) -> str:
    """16 hex digits naming the conversion of `folder` (+ `adapter`) by this converter."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"ftadvisor-gguf {CONVERTER_VERSION} gguf {version('gguf')} f16\0".encode())
    _folder_key(digest, folder)
    if adapter is not None:
        digest.update(b"adapter\0")
        _folder_key(digest, adapter)
    return digest.hexdigest()[:16]


def gguf_path(folder: Path, adapter: Path | None) -> Path:
    """Where the conversion of `folder` (+ `adapter`) lives (see the module docstring)."""
    key = cache_key(folder, adapter)
    if adapter is not None and (adapter.parent / "spec.json").is_file():
        return adapter.parent / f"{MERGED_PREFIX}{key}.gguf"
    from common.settings import load_settings

    name = f"{adapter.name}-on-{folder.name}" if adapter is not None else folder.name
    return load_settings().cache_dir / "gguf" / f"{name}-{key}.gguf"


def _merged_state(folder: Path, adapter: Path | None):
    """(state dict, config dict) in float32, the adapter merged in."""
    from lm.loading import load_model

    model = load_model(str(folder), device="cpu", dtype="float32")
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return model.state_dict(), model.config.to_dict()


def _unk_token(folder: Path) -> str | None:
    """tokenizer_config.json's unk_token (a string, or an AddedToken's dict), if the folder has one."""
    import json

    path = folder / "tokenizer_config.json"
    token = json.loads(path.read_text(encoding="utf-8")).get("unk_token") if path.is_file() else None
    return token.get("content") if isinstance(token, dict) else token


def _write(folder: Path, adapter: Path | None, target: Path) -> None:
    import json

    from lm.offline import partial_path, remove_stale_partials

    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target)
    tokenizer_file = adapter / "tokenizer.json" if adapter and (adapter / "tokenizer.json").is_file() else None
    tokenizer_json = json.loads((tokenizer_file or folder / "tokenizer.json").read_text(encoding="utf-8"))
    state, config = _merged_state(folder, adapter)
    partial = partial_path(target)
    try:
        write_llama_gguf(state, config, tokenizer_json, partial, name=folder.name, unk_token=_unk_token(folder))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    if adapter is not None and target.parent == adapter.parent:
        for old in target.parent.glob(f"{MERGED_PREFIX}*.gguf"):
            if old != target:
                old.unlink(missing_ok=True)  # an earlier adapter of this run (training went on)


def converted_gguf(source: str, adapter: str | None = None) -> Path:
    """The GGUF file for `source` (a model folder or a hub id, as lm.refs.check_available gives
    it) with `adapter` (a LoRA adapter folder) merged in: converted now if not cached. Raises
    ModelError with one line when it does not convert."""
    why = why_not_convertible(source, adapter)
    if why:
        raise ModelError(f"model: {why}: it does not convert to a GGUF for OpenVINO")
    folder = local_folder(source)
    adapter_dir = Path(adapter) if adapter else None
    target = gguf_path(folder, adapter_dir)
    if not target.is_file():
        started = time.perf_counter()
        _write(folder, adapter_dir, target)
        log.info("converted %s%s to %s in %.1f s", folder.name, f" + {adapter_dir}" if adapter_dir else "", target,
                 time.perf_counter() - started)
    return target
