"""A document as Markdown: headings by level, tables as pipe tables, commands fenced, and for a
chart its title and where to find the picture (Markdown embeds nothing)."""
from __future__ import annotations

from report.document import Block, Bullets, Chart, Commands, Document, Paragraph, Table


def render_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    for s in doc.sections:
        out += [f"{'#' * s.level} {s.title}", ""]
        for b in s.blocks:
            out += markdown_block(b) + [""]
    return "\n".join(out).rstrip() + "\n"


def markdown_block(b: Block) -> list[str]:
    if isinstance(b, Paragraph):
        return [b.text]
    if isinstance(b, Bullets):
        return [f"- {x}" for x in b.items]
    if isinstance(b, Table):
        return [_row(b.labels), "|" + "---|" * len(b.columns)] + [_row(r) for r in b.text_rows()]
    if isinstance(b, Commands):
        return ["```bash", *b.lines, "```"]
    if isinstance(b, Chart):
        return [f"_{b.title}: {b.md_note}._"]
    raise TypeError(f"unknown block {type(b).__name__}")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
