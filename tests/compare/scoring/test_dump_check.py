"""The dump checker on its own (no server): statements cut where PostgreSQL would cut them, with
their line; what is dropped; what is refused, with the file and the line."""
from __future__ import annotations

import pytest

from compare.scoring.dump_check import read_dump
from compare.scoring.errors import ScoringError


def _read(tmp_path, text: str):
    path = tmp_path / "dump.sql"
    path.write_text(text)
    return read_dump(path)


def test_statements_are_cut_outside_strings_comments_and_dollar_quotes(tmp_path):
    statements = _read(
        tmp_path,
        (
            "SELECT 'a;b', E'it\\'s;', \"odd;name\" FROM t; -- c;\n"
            "/* outer /* nested; */ still a comment; */ SELECT $q$x;y$q$;\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\n"
            "CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
            "  SELECT CASE WHEN true THEN 2 END;\nEND;\n"
            "SELECT (1;\n"
            "2)\n"
        ),
    )
    assert [(s.line, s.sql.splitlines()[-1].strip()) for s in statements] == [
        (1, "SELECT 'a;b', E'it\\'s;', \"odd;name\" FROM t"),
        (2, "/* outer /* nested; */ still a comment; */ SELECT $q$x;y$q$"),
        (3, "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$"),
        (4, "END"),
        (9, "2)"),  # psql does not end a statement inside parentheses either
    ]


def test_copy_rows_go_with_their_statement_and_the_next_line_counts_on(tmp_path):
    statements = _read(tmp_path, (
        "\\restrict abc\n"
        "COPY public.people (id, name) FROM stdin;\n"
        "1\tO'Brien; \\! not a command\n"
        "2\t\\N\n"
        "\\.\n"
        "ALTER TABLE public.people OWNER TO somebody;\n"
        "GRANT SELECT ON public.people TO somebody;\n"
        "SELECT 1;\n"
        "\\unrestrict abc\n"))
    assert [(s.line, s.sql, s.copy_data) for s in statements] == [
        (2, "COPY public.people (id, name) FROM stdin", "1\tO'Brien; \\! not a command\n2\t\\N\n"),
        (8, "SELECT 1", None),  # OWNER TO and GRANT ... ON are dropped
    ]


@pytest.mark.parametrize("text, line, refusal", [
    ("SELECT 1;\n\n  \\! id\n", 3, "`\\!` is a psql meta-command"),
    ("COPY t (a; b) FROM stdin;\n", 1, "COPY to or from a file"),           # no ';' in a COPY
    ("COPY t FROM stdin; SELECT 1\n1\n\\.\n", 1, "text after COPY ... FROM stdin; on the same line"),
    ("SELECT 'never closed;\n", 1, "the string opened here never closes"),
    ("SELECT 1;\n/* never closed\n", 2, "the comment opened here never closes"),
    ("CREATE EXTENSION IF NOT EXISTS \"dblink\";\n", 1, "extension dblink is not among"),
    ("RESET SESSION AUTHORIZATION;\n", 1, "switches the role"),
    ("REVOKE pg_read_server_files FROM someone;\n", 1, "REVOKE of a role"),
    ("CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ x $$ LANGUAGE 'plpython3u';\n", 1, "language plpython3u"),
    ("CREATE USER MAPPING FOR current_user SERVER s;\n", 1, "CREATE USER MAPPING reaches outside the database"),
])
def test_refusals_name_the_file_and_the_line(tmp_path, text, line, refusal):
    with pytest.raises(ScoringError) as info:
        _read(tmp_path, text)
    message = str(info.value)
    assert message.startswith(f"sql_dumps: dump.sql line {line}: ") and refusal in message, message


def test_a_dump_that_is_a_link_is_not_followed(tmp_path):
    outside = tmp_path / "secret.sql"
    outside.write_text("SELECT 1;\n")
    (tmp_path / "dumps").mkdir()
    link = tmp_path / "dumps" / "evil.sql"
    link.symlink_to(outside)
    with pytest.raises(ScoringError, match=r"sql_dumps: cannot read evil\.sql"):
        read_dump(link)
