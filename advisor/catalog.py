"""What the advisor asks the estimator's catalogs: GPUs and models by loose name, whether a model
is an instruct (chat) checkpoint, the hub id a command should load, a smaller student of the same
line for distillation, and longer-context models. The one module besides `sizing` that imports
the estimator, so `answers` (validation) and `sizing` share it without importing each other.

Lookups are cached; the GPU cache is keyed by the catalog file and its mtime, so an edited
catalog (FTADVISOR_GPU_CATALOG) is seen at once."""
from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path

# A checkpoint trained to follow instructions: `-Instruct`, `-chat`, `-it` (Gemma) in its name.
_INSTRUCT = re.compile(r"(instruct|chat|(^|[-_/])it$)", re.IGNORECASE)
# A distillation student is at least this many times smaller than its teacher (in parameters):
# the point is a much cheaper model per query (Hsieh et al. 2023 distil 540B into 770M-11B).
STUDENT_RATIO = 4.0
# Bare sizes offered as smaller models when the model is itself a bare size.
SIZES = ("70b", "32b", "14b", "8b", "3b", "1b")


def _est():
    import estimator  # pure arithmetic, no torch

    return estimator


_MTIME_CHECKED: dict[str, tuple[float, float]] = {}  # catalog path -> (checked at, mtime)
MTIME_RECHECK_S = 0.5  # a recommendation stats the catalog once, not a hundred times


def gpu_catalog_version() -> tuple[str, float]:
    """The GPU catalog file in use (FTADVISOR_GPU_CATALOG, read every call) and its mtime
    (re-read at most every MTIME_RECHECK_S seconds per path)."""
    path = _est().gpus.catalog_path()
    key, now = str(path), time.monotonic()
    checked = _MTIME_CHECKED.get(key)
    if checked is None or now - checked[0] > MTIME_RECHECK_S:
        checked = (now, path.stat().st_mtime if path.exists() else 0.0)
        _MTIME_CHECKED[key] = checked
    return key, checked[1]


@lru_cache(maxsize=256)
def _gpu(name: str, version: tuple[str, float]):
    return _est().load_gpu(name)


def load_gpu(name: str):
    """The catalog `Gpu` for a loosely written name; unknown -> a ValueError listing close names."""
    return _gpu(name, gpu_catalog_version())


def canonical_gpu(name: str) -> str:
    """`a100-80gb` -> `A100 80GB`."""
    return load_gpu(name).name


def gpu_names() -> list[str]:
    return [g.name for g in _est().list_gpus()]


@lru_cache(maxsize=256)
def _spec(name: str):
    return _est().load_model_spec(name)


def _may_be_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.startswith(("~", ".")) or name.endswith(".json")


def model_spec(name: str):
    """The estimator's ModelSpec for a catalog name, hub id, size (`8b`) or config path; unknown ->
    a ValueError listing close names. Paths are re-read (the file may change), names are cached."""
    if _may_be_path(name) and Path(name).expanduser().exists():
        return _est().load_model_spec(name)
    return _spec(name)


def context_window(name: str) -> int:
    return model_spec(name).max_position_embeddings


def is_instruct(name: str) -> bool:
    """Whether the named checkpoint already follows instructions (a chat/instruct release).
    Catalog names of base models (`llama-3.1-8b`) and bare sizes are not."""
    return bool(_INSTRUCT.search(name.strip()))


@lru_cache(maxsize=1)
def _catalog_rows() -> tuple:
    return tuple(_est().list_models())


def _row(name: str):
    spec = model_spec(name)
    return next((r for r in _catalog_rows() if r.id == spec.catalog_id), None) if spec.catalog_id else None


def _norm(name: str) -> str:
    return re.sub(r"[\s\-_]+", "", name.strip().lower())


def instruct_hub_id(name: str) -> str | None:
    """The hub id of the instruct release of a catalog model (`llama-3.1-8b` ->
    `meta-llama/Llama-3.1-8B-Instruct`), None when the catalog knows none."""
    row = _row(name)
    if row is None:
        return None
    if is_instruct(row.id):
        return row.id
    hub = [a for a in row.aliases if "/" in a and is_instruct(a)]
    typed = _norm(name.split("/")[-1])
    return next((a for a in hub if _norm(a.split("/")[-1]) == typed), hub[0] if hub else None)


def instruct_variant(name: str) -> str | None:
    """A name for the instruct release to type in the questionnaire (`llama-3.1-8b-instruct`),
    None when `name` is one already or the catalog knows none."""
    if is_instruct(name):
        return None
    row = _row(name)
    short = [a for a in row.aliases if "/" not in a and is_instruct(a)] if row else []
    return short[0] if short else instruct_hub_id(name)


def runnable_model(name: str) -> str:
    """What `tune`, `rag ask` and `compare` load: a hub id or folder, not a catalog alias. An
    instruct alias loads the instruct release, a base alias the base model; a bare size stays."""
    if "/" in name or Path(name).expanduser().exists():
        return name
    spec = model_spec(name)
    if spec.catalog_id is None:
        return name
    return (instruct_hub_id(name) if is_instruct(name) else None) or spec.catalog_id


def _line(family: str) -> str:
    """`Llama 3.1` and `Llama 3.2` are one line of models (first word, case ignored)."""
    return family.split()[0].lower() if family else ""


def _short_name(row) -> str:
    short = [a for a in row.aliases if "/" not in a and not is_instruct(a)]
    return short[0] if short else row.id


def _version(family: str) -> float:
    """`Llama 3.2` -> 3.2, `Llama 2` -> 2, `LLaMA` -> 0: newer releases of a line first."""
    found = re.search(r"\d+(\.\d+)?", family)
    return float(found.group()) if found else 0.0


def smaller_models(name: str, ratio: float = 1.1) -> list[str]:
    """Catalog models at least `ratio` times smaller than `name`: its own family first (largest
    first), then the rest of its line, newest release first (Llama 3.1 70B -> Llama 3.1 8B;
    Llama 3.1 8B -> Llama 3.2 3B, 1B, then Llama 2 7B). A bare size (`70b`) gets bare sizes."""
    params = model_spec(name).param_count()
    row = _row(name)
    if row is None:
        return [s for s in SIZES if _spec(s).param_count() * ratio <= params]
    smaller = [r for r in _catalog_rows() if r.params_total * ratio <= params]
    family = sorted((r for r in smaller if r.family == row.family), key=lambda r: -r.params_total)
    line = sorted((r for r in smaller if r.family != row.family and _line(r.family) == _line(row.family)),
                  key=lambda r: (-_version(r.family), -r.params_total))
    return [_short_name(r) for r in family + line]


def student_model(teacher: str) -> str | None:
    """The distillation student: the largest model at least STUDENT_RATIO times smaller than
    the teacher, from its family or line; None when there is none (the teacher is small)."""
    found = smaller_models(teacher, STUDENT_RATIO)
    return found[0] if found else None


def long_context_models(tokens: int, like: str, count: int = 2) -> list[str]:
    """Catalog models whose context holds `tokens`, closest in size to `like` first."""
    params = model_spec(like).param_count()
    rows = [r for r in _catalog_rows() if _spec(r.id).max_position_embeddings >= tokens]
    rows.sort(key=lambda r: abs(r.params_total - params))
    return [_short_name(r) for r in rows[:count]]
