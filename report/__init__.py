"""A document as data and its renderers: `Document` of `Section`s of blocks (`Paragraph`, `Bullets`,
`Table` of typed cells with a format per column, `Commands`, `Chart` drawn on demand), rendered by
`report.markdown`, `report.html` (one self-contained file) and `report.pdf`; `report.figures` turns a
matplotlib figure into PNG or SVG bytes. It knows neither the advisor nor the comparison (both build
documents), nor streamlit (ui.document_view puts a document on a page).

Import-light: matplotlib and reportlab load inside the functions that draw."""
from report.document import (
    Block,
    Bullets,
    Cell,
    Chart,
    Column,
    Commands,
    Document,
    Paragraph,
    Section,
    Table,
    table,
)
from report.html import render_html
from report.markdown import render_markdown
from report.pdf import render_pdf

__all__ = [
    "Block", "Bullets", "Cell", "Chart", "Column", "Commands", "Document", "Paragraph", "Section", "Table",
    "render_html", "render_markdown", "render_pdf", "table",
]
