"""A document as a real PDF (reportlab platypus), with the charts as images. Text uses the DejaVu
fonts that ship with matplotlib, so any Unicode in answers and sources renders."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from report.document import Block, Bullets, Chart, Commands, Document, Paragraph, Table

_FONTS = {"body": "Helvetica", "bold": "Helvetica-Bold", "mono": "Courier"}
SHORT_CELL = 18  # characters: a cell this short stays on one line


def _register_fonts() -> dict[str, str]:
    """DejaVu Sans / Sans Mono from matplotlib's data folder; Helvetica if they are missing."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    files = {"body": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
    if not all((ttf / f).is_file() for f in files.values()):
        return dict(_FONTS)
    names = {}
    for role, f in files.items():
        name = f"FTA-{Path(f).stem}"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(ttf / f)))
        names[role] = name
    return names


def render_pdf(doc: Document) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    fonts = _register_fonts()
    base = getSampleStyleSheet()
    styles = {
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontName=fonts["bold"], fontSize=16,
                             leading=20, textColor=colors.HexColor("#23407a")),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=fonts["bold"], fontSize=12.5,
                             leading=16, spaceBefore=10, textColor=colors.HexColor("#23407a")),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontName=fonts["bold"], fontSize=11,
                             leading=14, spaceBefore=8, textColor=colors.HexColor("#23407a")),
        "p": ParagraphStyle("p", parent=base["BodyText"], fontName=fonts["body"], fontSize=9.5, leading=13),
        "headline": ParagraphStyle("headline", parent=base["BodyText"], fontName=fonts["bold"],
                                   fontSize=11, leading=15, backColor=colors.HexColor("#eef4ff"),
                                   borderPadding=6, spaceBefore=4, spaceAfter=8),
        "evidence": ParagraphStyle("evidence", parent=base["BodyText"], fontName=fonts["body"], fontSize=9.5,
                                   leading=13, backColor=colors.HexColor("#eef4ff"), borderPadding=6,
                                   spaceBefore=4, spaceAfter=8),
        "note": ParagraphStyle("note", parent=base["BodyText"], fontName=fonts["body"], fontSize=8, leading=10.5,
                               textColor=colors.HexColor("#5a6478")),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontName=fonts["body"], fontSize=8, leading=10),
        "mono": ParagraphStyle("mono", parent=base["Code"], fontName=fonts["mono"], fontSize=7.5,
                               leading=9.5, backColor=colors.HexColor("#f1f3f8"), borderPadding=4,
                               spaceBefore=2, spaceAfter=6),
    }
    buf = io.BytesIO()
    pdf = SimpleDocTemplate(buf, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm,
                            title=doc.title, author="ftadvisor")
    from reportlab.platypus import Paragraph as RLParagraph

    story: list[Any] = [RLParagraph(escape(doc.title), styles["h1"])]
    width = A4[0] - 32 * mm
    for s in doc.sections:
        story.append(RLParagraph(escape(s.title), styles[f"h{min(s.level, 3)}"]))
        for b in s.blocks:
            story += _flowables(b, styles, fonts, width)
    pdf.build(story)
    return buf.getvalue()


def _flowables(b: Block, styles: dict, fonts: dict, width: float) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.platypus import Image, ListFlowable, ListItem, TableStyle
    from reportlab.platypus import Paragraph as RLParagraph
    from reportlab.platypus import Table as RLTable

    if isinstance(b, Paragraph):
        return [RLParagraph(escape(b.text), styles["p" if b.role == "body" else b.role])]
    if isinstance(b, Bullets):
        items = [ListItem(RLParagraph(escape(x), styles["p"]), leftIndent=10) for x in b.items]
        return [ListFlowable(items, bulletType="bullet", start="•", leftIndent=10, bulletFontSize=8)]
    if isinstance(b, Table):
        cells = [b.labels, *b.text_rows()]
        data = [[RLParagraph(f"<b>{escape(h)}</b>", styles["cell"]) for h in cells[0]]]
        data += [[RLParagraph(escape(c), styles["cell"]) for c in row] for row in cells[1:]]
        table = RLTable(data, repeatRows=1, hAlign="LEFT", colWidths=_col_widths(cells, width), spaceBefore=3,
                        spaceAfter=6)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c5ccdb")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2fa")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return [table]
    if isinstance(b, Commands):
        return [RLParagraph(escape(line), styles["mono"]) for line in b.lines]
    if isinstance(b, Chart):
        img = Image(io.BytesIO(b.draw("png")))
        scale = min(1.0, width / img.imageWidth)
        img.drawWidth, img.drawHeight = img.imageWidth * scale, img.imageHeight * scale
        return [img] + ([RLParagraph(escape(b.caption), styles["note"])] if b.caption else [])
    raise TypeError(f"unknown block {type(b).__name__}")


def _col_widths(cells: list[list[str]], width: float) -> list[float]:
    """The page width shared by the columns: long-text columns get more room (longest cell, capped),
    but no word, nor a short figure ("+0.200 to +0.800"), is split; `cells`: the header row, then
    the rows."""
    n = len(cells[0])
    cells = [[r[i] for r in cells] for i in range(n)]
    longest = [max(len(c) for c in col) for col in cells]
    word = [max(len(w) for c in col for w in (c.split() or [""])) for col in cells]
    figure = [max((len(c) for c in col[1:] if len(c) <= SHORT_CELL), default=0) for col in cells]
    weights = [max(word[i] + 3, figure[i] + 1, min(max(longest[i], 4), 60) * 0.5) for i in range(n)]
    return [width * w / sum(weights) for w in weights]
