"""Where ftadvisor keeps what it makes, and which folders a page may read: loaded once per call
from the environment, overridable in tests (set the variables, call `load_settings()` again).

Environment:
- FTADVISOR_HOME: the root (default ~/.ftadvisor): runs/, stores/, uploads/, models/, data/, cache/.
- FTADVISOR_DATA_DIRS: more folders (os.pathsep-separated) whose files a page may read when a
  path is typed; the home's data/ and uploads/ folders are always allowed.
- FTADVISOR_GPU_CATALOG: a GPU catalog file replacing the built-in one (estimator.gpus).
- FTADVISOR_EMBED_DTYPE: float32 (default) or bfloat16 for the RAG embeddings.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HOME_ENV = "FTADVISOR_HOME"
DATA_DIRS_ENV = "FTADVISOR_DATA_DIRS"
GPU_CATALOG_ENV = "FTADVISOR_GPU_CATALOG"
EMBED_DTYPE_ENV = "FTADVISOR_EMBED_DTYPE"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    home: Path = Field(description=f"Root folder for runs, stores, uploads and models ({HOME_ENV}).")
    data_dirs: list[Path] = Field(
        default_factory=list, description=f"Extra folders a page may read typed paths from ({DATA_DIRS_ENV})."
    )
    gpu_catalog: Path | None = Field(
        None, description=f"A GPU catalog file replacing the built-in one ({GPU_CATALOG_ENV})."
    )
    embed_dtype: Literal["float32", "bfloat16"] = Field(
        "float32", description=f"RAG embedding dtype ({EMBED_DTYPE_ENV})."
    )
    max_upload_mb: int = Field(200, ge=1, description="Largest upload the pages accept, in MB.")

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def stores_dir(self) -> Path:
        return self.home / "stores"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        """What ftadvisor can make again from what it holds (e.g. converted models): safe to delete."""
        return self.home / "cache"

    @property
    def data_dir(self) -> Path:
        """Where users put files the pages may read by typed path."""
        return self.home / "data"

    @property
    def readable_dirs(self) -> list[Path]:
        """Folders a typed path on a page may point into (see `common.paths.readable_on_a_page`)."""
        return [self.data_dir, self.uploads_dir, *self.data_dirs]

    def new_run_dir(self, kind: str) -> Path:
        """A new, unused run folder name under runs/: `YYYYmmdd-HHMMSS-KIND` (-2, -3... if taken)."""
        stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}"
        candidate, n = self.runs_dir / stem, 1
        while candidate.exists():
            n += 1
            candidate = self.runs_dir / f"{stem}-{n}"
        return candidate


def _paths(value: str | None) -> list[Path]:
    return [Path(p).expanduser().resolve() for p in (value or "").split(os.pathsep) if p.strip()]


def load_settings() -> Settings:
    """The settings from the environment, read now (cheap: no file is read)."""
    home = os.environ.get(HOME_ENV) or str(Path.home() / ".ftadvisor")
    catalog = os.environ.get(GPU_CATALOG_ENV)
    return Settings(
        home=Path(home).expanduser().resolve(),
        data_dirs=_paths(os.environ.get(DATA_DIRS_ENV)),
        gpu_catalog=Path(catalog).expanduser() if catalog else None,
        embed_dtype=os.environ.get(EMBED_DTYPE_ENV, "float32"),
    )
