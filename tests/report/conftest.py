"""One document with every block kind, drawn by a real matplotlib chart."""
from __future__ import annotations

import pytest

from report import Bullets, Chart, Column, Commands, Document, Paragraph, Section, Table
from report.figures import figure_bytes, pyplot


def draw_bars(fmt: str) -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
    ax.bar(["LoRA", "QLoRA"], [16.6, 7.2])
    ax.set_title("GiB per GPU")
    return figure_bytes(fig, fmt)


@pytest.fixture
def doc() -> Document:
    return Document("Every block | once", [
        Section("First", [
            Paragraph("Recommendation: LoRA.", "headline"),
            Paragraph("What the figures show, first.", "evidence"),
            Paragraph("A body paragraph with <angle> & ampersand."),
            Paragraph("How to read the table.", "note"),
            Bullets(["one", "two"]),
        ]),
        Section("Inside", [
            Table([Column("arm"), Column("score", "{:.3f}"), Column("yes", lambda v: "yes" if v else "no"),
                   Column("count")], [["Base | zero-shot", 0.5, True, 3], ["Fine-tuned", None, False, None]]),
            Commands(["ftadvisor tune --model m"]),
            Chart("Memory", draw_bars, md_note="the picture is in the HTML report", caption="Bars: GiB per GPU."),
        ], level=3),
    ])
