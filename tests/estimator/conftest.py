"""Fixtures the estimator tests share."""
import json

import pytest

from estimator.model_catalog import CATALOG_DIR, _lookup, normalize


@pytest.fixture(scope="session")
def catalog_config():
    """name -> the raw config.json dict a catalog entry copies (to build the real model from)."""

    def read(name: str) -> dict:
        return json.loads((CATALOG_DIR / _lookup()[normalize(name)]["file"]).read_text())

    return read
