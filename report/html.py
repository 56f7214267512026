"""A document as ONE self-contained HTML file: inline CSS, the charts as inline SVG, no links to
fetch."""
from __future__ import annotations

from html import escape

from report.document import Block, Bullets, Chart, Commands, Document, Paragraph, Table

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433;
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; border-bottom: 3px solid #3b6fd8; padding-bottom: .4rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; color: #23407a; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; color: #23407a; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid #d5dae5; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef2fa; }
pre { background: #1d2433; color: #e8edf7; padding: .7rem 1rem; border-radius: 6px;
      overflow-x: auto; font-size: .85rem; }
.headline { background: #eef4ff; border-left: 5px solid #3b6fd8; padding: .8rem 1rem;
            font-size: 1.1rem; font-weight: 600; }
.evidence { background: #eef4ff; border-left: 5px solid #3b6fd8; padding: .8rem 1rem; }
.note { color: #5a6478; font-size: .85rem; }
.chart figcaption { color: #5a6478; font-size: .85rem; }
.chart { margin: .6rem 0; }
.chart svg { max-width: 100%; height: auto; }
li { margin: .25rem 0; }
"""


def render_html(doc: Document) -> bytes:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(doc.title)}</h1>",
    ]
    for s in doc.sections:
        parts.append(f"<h{s.level}>{escape(s.title)}</h{s.level}>")
        parts += [_block(b) for b in s.blocks]
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def _block(b: Block) -> str:
    if isinstance(b, Paragraph):
        cls = "" if b.role == "body" else f' class="{b.role}"'
        return f"<p{cls}>{escape(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{escape(x)}</li>" for x in b.items) + "</ul>"
    if isinstance(b, Table):
        head = "".join(f"<th>{escape(h)}</th>" for h in b.labels)
        rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in b.text_rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if isinstance(b, Commands):
        return "<pre><code>" + escape("\n".join(b.lines)) + "</code></pre>"
    if isinstance(b, Chart):
        svg = b.draw("svg").decode("utf-8")
        svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype
        caption = f"<figcaption>{escape(b.caption)}</figcaption>" if b.caption else ""
        return f'<figure class="chart">{svg}{caption}</figure>'
    raise TypeError(f"unknown block {type(b).__name__}")
