"""Chunking keeps structure: whole SQL statements, headings start chunks, sizes and overlap hold."""
from __future__ import annotations

import re
from itertools import pairwise

import pytest

from rag_baseline.chunking import chunk_text, sql_statement_spans
from rag_baseline.errors import RagError


def test_sql_statements_split_outside_quotes_comments_and_dollar_quotes():
    sql = ("-- a comment; not the end\nCREATE TABLE t (a text DEFAULT 'x;y');\n"
           "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n"
           "/* block; comment */ SELECT \"odd;name\" FROM t;\n")
    statements = [sql[a:b].strip() for a, b in sql_statement_spans(sql)]
    assert len(statements) == 3
    assert statements[0].endswith("DEFAULT 'x;y');")
    assert "$$ SELECT 1; $$" in statements[1]


def test_copy_data_stays_with_its_statement():
    sql = "COPY public.t (a, b) FROM stdin;\n1\tx;y\n2\tz\n\\.\n\nSELECT 1;\n"
    statements = [sql[a:b].strip() for a, b in sql_statement_spans(sql)]
    assert statements == ["COPY public.t (a, b) FROM stdin;\n1\tx;y\n2\tz\n\\.", "SELECT 1;"]


def test_sql_eval_create_tables_are_never_cut(sql_eval):
    for path in sorted((sql_eval / "schemas").glob("*.sql")):
        text = path.read_text()
        pieces = chunk_text(text, "sql", 800, 100)
        assert all(len(p.text) <= 800 for p in pieces), path.name
        for create in re.findall(r"CREATE TABLE .*?\);", text, re.DOTALL):
            header = create.splitlines()[0]
            if len(create) <= 800:  # a statement that fits is never cut
                assert any(create in p.text for p in pieces), f"{path.name}: {header} was cut"
            else:  # a longer one is cut at lines, every piece naming its table
                parts = [p.text for p in pieces if header in p.text]
                assert len(parts) >= 2 and all(t.startswith(header) for t in parts[1:]), header


def test_long_copy_block_is_cut_into_pieces_that_repeat_its_header():
    rows = "\n".join(f"{i}\tname {i}\tsome longer text value" for i in range(200))
    sql = f"COPY public.people (id, name, note) FROM stdin;\n{rows}\n\\.\n"
    pieces = chunk_text(sql, "sql", 500, 50)
    assert len(pieces) > 5
    assert all(p.text.startswith("COPY public.people (id, name, note) FROM stdin;") for p in pieces)
    assert all(len(p.text) <= 500 for p in pieces)


def test_headings_start_chunks_and_sections_are_named():
    md = "# Install\n\nRun make.\n\n# Use\n\nOpen the app.\n\n## Pages\n\nThere are five.\n"
    pieces = chunk_text(md, "markdown", 500, 50)
    assert [p.text.splitlines()[0] for p in pieces] == ["# Install", "# Use", "## Pages"]
    assert pieces[2].section == "Use > Pages"


def test_long_prose_respects_size_and_overlaps():
    sentences = " ".join(f"Sentence number {i} says something." for i in range(60))
    pieces = chunk_text(f"# Title\n\n{sentences}\n", "markdown", 300, 80)
    assert len(pieces) > 3 and all(len(p.text) <= 300 for p in pieces)
    for before, after in pairwise(pieces):
        first_sentence = after.text.split(". ")[0]
        assert first_sentence in before.text  # the next chunk repeats the end of this one


@pytest.mark.parametrize("size,overlap", [(10, 0), (800, 400), (800, -1), (9000, 0)])
def test_bad_sizes_are_refused(size, overlap):
    with pytest.raises(RagError, match="chunk_"):
        chunk_text("text", "markdown", size, overlap)
