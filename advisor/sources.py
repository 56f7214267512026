"""The sources the rules cite, kept as data (`sources.json`): an id, a readable title, what kind
of text it is and where to find it. Rules name a source by id and state their claim in their own
words; the page, the CLI and every report show the title."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

SOURCES_FILE = Path(__file__).parent / "sources.json"


class SourceInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str = Field(min_length=5)
    kind: str = Field(description="paper, web article, documentation, blog post or tool.")
    where: str = Field(description="Where to find it (arXiv id, site and page, or a folder of this repository).")
    url: str | None = None


@lru_cache(maxsize=1)
def load_sources() -> dict[str, SourceInfo]:
    data = json.loads(SOURCES_FILE.read_text(encoding="utf-8"))
    rows = [SourceInfo.model_validate(r) for r in data["sources"]]
    return {r.id: r for r in rows}


def source(source_id: str) -> SourceInfo:
    """The source with this id; a KeyError names the known ids (a typo in a rule)."""
    sources = load_sources()
    if source_id not in sources:
        raise KeyError(f"unknown source {source_id!r}; known: {', '.join(sorted(sources))}")
    return sources[source_id]


def title(source_id: str) -> str:
    return source(source_id).title
