"""Every top-level package is in the wheel: pyproject's `packages.find` include names it."""
from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Measurement scripts run from a checkout (they import tests/): not shipped.
NOT_SHIPPED = {"bench"}
# Packages planned for issue 21, named before they exist so a move cannot forget them.
PLANNED = {"lm", "report"}


def _include() -> list[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    return pyproject["tool"]["setuptools"]["packages"]["find"]["include"]


def _shipped(name: str) -> bool:
    # setuptools' PackageFinder matches each pattern with fnmatchcase on the dotted package name.
    return any(fnmatchcase(name, pattern) for pattern in _include())


def test_every_top_level_package_is_included_in_the_wheel():
    packages = {init.parent.name for init in REPO.glob("*/__init__.py")} - NOT_SHIPPED
    assert packages and not [name for name in sorted(packages | PLANNED) if not _shipped(name)]


def test_what_is_not_shipped_is_not_included():
    assert not [name for name in sorted(NOT_SHIPPED | {"tests"}) if _shipped(name)]
