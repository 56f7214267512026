"""A document as data: sections of paragraphs, bullet lists, tables, commands and charts. Whoever
has something to show builds one `Document` once; each renderer (Markdown, HTML, PDF, the page)
only lays it out, so two outputs cannot drift apart.

Table cells keep their type (a number stays a number: a page can sort it); each column says how
md, html and pdf print it, and None prints "-"."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Cell = str | int | float | bool | None
MISSING = "-"


@dataclass(frozen=True)
class Column:
    label: str
    # A str.format template ("{:.3f}") or a function of the value; None is never passed to it.
    fmt: str | Callable[[Any], str] = "{}"

    def text(self, value: Cell) -> str:
        """The cell as every renderer prints it."""
        if value is None:
            return MISSING
        return self.fmt(value) if callable(self.fmt) else self.fmt.format(value)


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: list[list[Cell]]

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def text_rows(self) -> list[list[str]]:
        """The rows as printed: each cell through its column's format."""
        return [[c.text(v) for c, v in zip(self.columns, row, strict=True)] for row in self.rows]


def table(labels: list[str], rows: list[list[Cell]]) -> Table:
    """A table of cells printed as they are (text already formatted)."""
    return Table([Column(label) for label in labels], rows)


@dataclass(frozen=True)
class Paragraph:
    text: str
    # headline: the one answer of the document; evidence: what the figures show, read first;
    # note: how to read a figure next to it.
    role: Literal["body", "headline", "evidence", "note"] = "body"


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Commands:
    lines: list[str]


@dataclass(frozen=True)
class Chart:
    """A picture: `draw(fmt)` gives its PNG or SVG bytes (matplotlib, only when a renderer asks);
    Markdown, which embeds nothing, writes the title and `md_note`, where to find it."""

    title: str
    draw: Callable[[str], bytes]
    md_note: str = "see the HTML or PDF report for the chart"
    caption: str | None = None


Block = Paragraph | Bullets | Table | Commands | Chart


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2  # 2: a section; 3: a subsection (a comparison inside the advisor's report)


@dataclass
class Document:
    title: str
    sections: list[Section]
