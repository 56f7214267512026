"""Where ftadvisor keeps what it makes (runs, Chroma stores), loaded once, overridable by env."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


class Settings(BaseModel):
    home: Path = Field(description="Root folder for runs and stores (FTADVISOR_HOME).")
    max_upload_mb: int = Field(200, ge=1, description="Largest upload the pages accept, in MB.")

    @property
    def runs_dir(self) -> Path:
        return self.home / "runs"

    @property
    def stores_dir(self) -> Path:
        return self.home / "stores"


def load_settings() -> Settings:
    home = os.environ.get("FTADVISOR_HOME") or str(Path.home() / ".ftadvisor")
    return Settings(home=Path(home).expanduser().resolve())
