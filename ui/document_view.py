"""A `report.Document` on a page: the page's renderer beside report's Markdown, HTML and PDF. Tables
keep their typed cells (a column sorts as numbers) and show each cell as the other renderers print
it (the column's format, "-" for none), with the first column as the index."""
from __future__ import annotations

import re

import streamlit as st

from report.document import MISSING, Block, Bullets, Chart, Commands, Document, Paragraph, Table

# Markdown and Streamlit's extras ($...$ is LaTeX, ~~ strikes through): shown as typed.
_MARKDOWN = re.compile(r"([\\`*_\[\]$~])")


def plain(text: str) -> str:
    """`text` for st.markdown and friends, shown as it is."""
    return _MARKDOWN.sub(r"\\\1", text)


def show_document(doc: Document, key: str) -> None:
    """Every section of `doc` (its title is the page's business); widget keys start with `key`."""
    for n, section in enumerate(doc.sections):
        if section.level <= 2:
            st.subheader(plain(section.title))
        else:
            st.markdown(f"**{plain(section.title)}**")
        for i, block in enumerate(section.blocks):
            show_block(block, f"{key}_{n}_{i}")


def show_block(b: Block, key: str) -> None:
    if isinstance(b, Paragraph):
        if b.role in ("headline", "evidence"):
            st.info(plain(b.text))
        elif b.role == "note":
            st.caption(plain(b.text))
        else:
            st.markdown(plain(b.text))
    elif isinstance(b, Bullets):
        st.markdown("\n".join(f"- {plain(x)}" for x in b.items))
    elif isinstance(b, Table):
        st.dataframe(styled(b), key=key, placeholder=MISSING)
    elif isinstance(b, Commands):
        st.code("\n".join(b.lines), language="bash")
    elif isinstance(b, Chart):
        st.image(b.draw("png"), caption=b.caption)
    else:
        raise TypeError(f"unknown block {type(b).__name__}")


def styled(t: Table):
    """The table as a pandas Styler: the typed values (object columns: Arrow types each from its
    Python values, so an int stays an int beside a None), shown through each column's format."""
    import pandas as pd

    frame = pd.DataFrame(t.rows, columns=t.labels, dtype=object).set_index(t.labels[0])
    return frame.style.format({c.label: c.text for c in t.columns[1:]})
