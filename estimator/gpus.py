"""The GPU catalog: memory, dense tensor TFLOPS, memory bandwidth, bf16 support and an on-demand
price per GPU.

Data lives in `catalog/gpus.json`; a user copy can replace it through the environment variable
FTADVISOR_GPU_CATALOG, read through `common.settings.load_settings().gpu_catalog` (the command's
`--gpu-catalog` sets that variable). The parsed file is cached per (path, modification time), so a
changed variable or an edited file is seen at the next call. Names match loosely:
case, spaces, dashes and underscores are ignored, so `H100 SXM`, `h100-sxm` and `h100sxm` are one.
"""
from __future__ import annotations

import difflib
import json
import os
import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.settings import GPU_CATALOG_ENV as CATALOG_ENV
from common.settings import load_settings
from estimator.errors import EstimatorError

DEFAULT_CATALOG = Path(__file__).parent / "catalog" / "gpus.json"


class Gpu(BaseModel):
    """One catalog row. TFLOPS are dense peaks (no 2:4 sparsity); memory in GiB as the driver reports."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    aliases: list[str] = Field(default_factory=list)
    memory_gb: float = Field(gt=0, description="Marketed memory, decimal GB.")
    memory_gib: float = Field(gt=0, description="Total memory the driver reports, GiB (2^30 bytes).")
    bf16_tflops: float | None = Field(None, gt=0, description="Dense bf16 tensor TFLOPS; null without bf16.")
    fp16_tflops: float = Field(gt=0, description="Dense fp16 tensor TFLOPS (fp32 accumulate).")
    fp32_tflops: float = Field(gt=0, description="Plain fp32 TFLOPS (no TF32 tensor cores).")
    memory_bandwidth_gbs: float | None = Field(
        None, gt=0, description="Peak memory bandwidth, decimal GB/s (datasheet); decoding is bound by it."
    )
    bandwidth_source: str = Field("", description="Where the bandwidth figure comes from.")
    bf16: bool = Field(description="Whether the GPU computes in bfloat16.")
    usd_per_hour: float = Field(gt=0, description="On-demand price of one GPU, USD per hour.")
    price_source: str
    price_date: str
    datasheet: str = ""

    def peak_tflops(self, precision: str) -> float:
        """Dense peak for the compute dtype: bf16 falls back to fp16 on GPUs without bf16."""
        if precision == "fp32":
            return self.fp32_tflops
        if precision == "bf16" and self.bf16_tflops:
            return self.bf16_tflops
        return self.fp16_tflops


def normalize_name(name: str) -> str:
    """`H100 SXM`, `h100-sxm`, `H100_SXM` -> `h100sxm`."""
    return re.sub(r"[\s_\-]+", "", name).lower()


def catalog_path() -> Path:
    """The catalog in use: the settings' `gpu_catalog` (FTADVISOR_GPU_CATALOG) or the built-in one."""
    return _settings_catalog(os.environ.get(CATALOG_ENV))


@lru_cache(maxsize=8)
def _settings_catalog(env_value: str | None) -> Path:
    """`load_settings().gpu_catalog`, once per value of the variable: the cache key is that value, so a
    changed variable is seen, and an estimate does not pay load_settings' ~0.8 ms (it resolves the
    home folder) on every call."""
    return load_settings().gpu_catalog or DEFAULT_CATALOG


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[Gpu, ...]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise EstimatorError(f"gpu catalog: {path} does not exist (set {CATALOG_ENV} to a JSON file)") from None
    except json.JSONDecodeError as exc:
        raise EstimatorError(f"gpu catalog: {path} is not valid JSON: {exc}") from None
    rows = data.get("gpus") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise EstimatorError(f"gpu catalog: {path} needs a non-empty list under \"gpus\"")
    gpus = []
    for i, row in enumerate(rows):
        try:
            gpus.append(Gpu.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise EstimatorError(
                f"gpu catalog: {path} row {i} ({row.get('name', '?')}): {where}: {first['msg']}"
            ) from None
    return tuple(gpus)


def list_gpus() -> list[Gpu]:
    """Every catalog GPU, in file order."""
    path = catalog_path()
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return list(_load(str(path), mtime))


def load_gpu(name: str) -> Gpu:
    """A catalog GPU by name or alias, matched loosely; unknown names list the close ones."""
    gpus = list_gpus()
    index = {}
    for gpu in gpus:
        for key in (gpu.name, *gpu.aliases):
            index.setdefault(normalize_name(key), gpu)
    wanted = normalize_name(name)
    if wanted in index:
        return index[wanted]
    close = difflib.get_close_matches(wanted, list(index), n=4, cutoff=0.5)
    names = sorted({index[k].name for k in close}) or [g.name for g in gpus]
    raise EstimatorError(f"gpu: unknown GPU {name!r}; close names: {', '.join(names)}")
