"""The RAG baseline's contracts: where the store is, what a chunk is, and every result."""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.text import one_line

DEFAULT_COLLECTION = "documents"
# Chroma: 3-512 characters of [a-zA-Z0-9._-], starting and ending with a letter or digit.
_COLLECTION_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,510})[A-Za-z0-9]$")


class StoreConfig(BaseModel):
    """A Chroma collection: in an embedded store folder (`path`) or on a server (`url`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path | None = Field(None, description="Folder of an embedded (persistent) Chroma store.")
    url: str | None = Field(None, description="Chroma server URL, e.g. http://127.0.0.1:8000.")
    collection: str = Field(DEFAULT_COLLECTION, description="Collection name (3-512 characters).")

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not _COLLECTION_RE.match(value) or ".." in value:
            raise ValueError(
                "collection must be 3-512 characters of letters, digits, '.', '_' or '-', "
                f"starting and ending with a letter or digit, got {value!r}"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"url must look like http://HOST:PORT, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_location(self) -> "StoreConfig":
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of a store folder (path) or a server url")
        return self

    @property
    def where(self) -> str:
        """Human-readable location, for messages."""
        return self.url if self.url else str(self.path)


class Chunk(BaseModel):
    """One piece of one document, as stored in Chroma (id, text and these metadata)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="source hash : position : content hash (stable across re-indexing).")
    text: str
    source: str = Field(description="Absolute path of the file the chunk comes from.")
    position: int = Field(ge=0, description="Index of the chunk within its file.")
    start_char: int = Field(ge=0, description="Offset of the chunk's first character in the file's text.")
    content_hash: str = Field(description="sha256 of the chunk text (hex, 16 characters).")
    section: str = Field("", description="Heading or statement the chunk belongs to, when known.")


class SearchHit(BaseModel):
    """A retrieved chunk with its rank and cosine similarity to the question."""

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(ge=1)
    score: float = Field(description="Cosine similarity in [-1, 1]; higher is closer.")
    source: str
    text: str
    position: int = Field(ge=0)
    section: str = ""
    id: str


class SkippedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    reason: str


class IndexReport(BaseModel):
    """What one `index_documents` call did."""

    model_config = ConfigDict(extra="forbid")

    store: str
    collection: str
    files_indexed: list[str] = Field(default_factory=list, description="New or changed files.")
    files_unchanged: list[str] = Field(default_factory=list)
    files_skipped: list[SkippedFile] = Field(default_factory=list)
    sources_removed: list[str] = Field(default_factory=list, description="Deleted files whose chunks went.")
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_total: int = Field(0, description="Chunks in the collection afterwards.")
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{self.store} [{self.collection}]: {len(self.files_indexed)} file(s) indexed, "
            f"{len(self.files_unchanged)} unchanged, {len(self.sources_removed)} removed, "
            f"{len(self.files_skipped)} skipped; +{self.chunks_added} / -{self.chunks_deleted} chunks, "
            f"{self.chunks_total} in total ({self.seconds:.1f} s)"
        ]
        lines += [one_line(f"skipped {s.path}: {s.reason}") for s in self.files_skipped]  # a file name is one line
        return "\n".join(lines)


class SourceStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    chunks: int


class StoreStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str
    collection: str
    chunks: int
    sources: list[SourceStats] = Field(default_factory=list)
    embedding_model: str
    embedding_dim: int
    space: str = "cosine"


class Timings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retrieve_s: float = 0.0
    generate_s: float = 0.0
    prompt_tokens: int = 0
    new_tokens: int = 0


class Answer(BaseModel):
    """A question answered from retrieved chunks, with the chunks cited as [1], [2], ..."""

    model_config = ConfigDict(extra="forbid")

    question: str
    answer: str
    covered: bool = Field(description="False when no chunk reached the relevance threshold.")
    hits: list[SearchHit] = Field(default_factory=list, description="The chunks put in the prompt, in order.")
    model: str | None = None
    prompt: str = ""
    timings: Timings = Field(default_factory=Timings)
