"""What of a SQL dump may run, decided before anything runs: the dump is cut into statements (with
the line each starts on), and each is kept, dropped or refused.

    for statement in read_dump(Path("schemas/academic.sql")):   # ScoringError "... line 12: refused: ..."
        statement.line, statement.sql, statement.copy_data

A dump is data: plain SQL run by the driver as an unprivileged role (`postgres.PrivateServer`),
never a psql script. Refused, with the file and the line: psql meta-commands (`\\!`, `\\copy`,
`\\connect`, `\\i`: no psql reads the file), `COPY ... PROGRAM` and `COPY` to or from the server's
files, `ALTER SYSTEM`, roles (`CREATE/ALTER/DROP ROLE|USER|GROUP`, `GRANT role TO`, `SET ROLE`,
`SET SESSION AUTHORIZATION`), databases and tablespaces, extensions outside `EXTENSIONS`,
functions in languages other than SQL and PL/pgSQL, `DO`, `LOAD`, foreign servers, and any
statement kind a schema dump does not hold. Dropped, silently: `OWNER TO` (the loading role owns
everything), `GRANT`/`REVOKE` on objects (the loader grants the reader SELECT), `COMMENT ON` shared
objects, transaction control (a dump loads in one transaction), pg_dump >= 17.6's
`\\restrict`/`\\unrestrict` lines (they guard psql against a malicious server).

The cutting follows PostgreSQL's lexer where it matters (quotes, E'' escapes, dollar quotes,
nested comments; `;` ends a statement outside parentheses and outside a `BEGIN ATOMIC` body, as
psql's psqlscan.l decides). Each statement then goes to the server alone through the extended
protocol, which refuses a second command: a text this cutter and the server read differently
fails instead of running something unchecked.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compare.scoring.errors import ScoringError

# Trusted extensions of PostgreSQL's contrib (a database owner may create them; docs, "Additional
# Supplied Modules") that a schema dump plausibly needs. Others need a superuser, or reach out.
EXTENSIONS = frozenset({"plpgsql", "pg_trgm", "citext", "hstore", "ltree", "uuid-ossp", "pgcrypto",
                        "fuzzystrmatch", "unaccent", "btree_gin", "btree_gist", "intarray", "cube"})
LANGUAGES = frozenset({"sql", "plpgsql"})  # trusted, and run with the loading role's rights
ALLOWED = ("CREATE", "ALTER", "DROP", "COPY ... FROM stdin", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "SELECT",
           "SET", "COMMENT", "REFRESH")
_RUN = frozenset({"CREATE", "ALTER", "DROP", "COPY", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "SELECT", "WITH",
                  "VALUES", "SET", "RESET", "COMMENT", "GRANT", "REVOKE", "REFRESH", "BEGIN", "START", "COMMIT",
                  "END"})
_WHY = {
    "DO": "DO runs a code block the loader cannot check",
    "LOAD": "LOAD loads a library into the server",
    "CALL": "CALL runs a procedure",
    "SECURITY": "SECURITY LABEL needs a label provider",
    "IMPORT": "IMPORT FOREIGN SCHEMA reaches another server",
}
_ROLES = frozenset({"ROLE", "USER", "GROUP"})
_GLOBAL = {"DATABASE": "each dump is loaded into a database of its own",
           "TABLESPACE": "a tablespace is a folder of the server"}
_OUTSIDE = frozenset({"SERVER", "FOREIGN", "SUBSCRIPTION", "PUBLICATION", "EVENT", "LANGUAGE", "MAPPING"})
_CREATE_SKIP = frozenset({"OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "UNIQUE", "TRUSTED",
                          "PROCEDURAL", "DEFAULT", "CONSTRAINT", "MATERIALIZED", "RECURSIVE"})
_SHARED_COMMENT = frozenset({"EXTENSION", "DATABASE", "ROLE", "TABLESPACE", "SERVER", "LANGUAGE", "SUBSCRIPTION",
                             "PUBLICATION", "EVENT"})

_ID = r"[A-Za-z_\x80-\U0010FFFF][\w$\x80-\U0010FFFF]*"
_TOKEN = re.compile(rf"(?P<word>{_ID})|--|/\*|'|\"|\$(?:[A-Za-z_\x80-\U0010FFFF][\w\x80-\U0010FFFF]*)?\$|;|\\|\(|\)")
_MASKED_TOKEN = re.compile(rf"{_ID}|\"_*\"")
_NAME = r"(?:[\w$]+|\"_*\")"
# COPY name [(column, ...)] FROM STDIN [options]: names, commas, masked strings, one group of options
# in parentheses, and no ';' (psycopg sends COPY with the simple protocol, which runs every command).
_COPY_IN = re.compile(rf"\s*COPY\s+{_NAME}(?:\s*\.\s*{_NAME})*\s*(?:\(\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\))?\s*"
                      rf"FROM\s+STDIN\b(?:\s*(?:[\w$]+|'_*'|,|\([^();]*\)))*\s*", re.IGNORECASE)
_LANGUAGE = re.compile(r"\bLANGUAGE\s+(\"_*\"|'_*'|[\w$]+)", re.IGNORECASE)
_EXTENSION_NAME = re.compile(r"\bEXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?(\"_*\"|[\w$]+)", re.IGNORECASE)
_SCS = re.compile(r"\bstandard_conforming_strings\s*(?:=|\bTO\b)\s*(\S+)", re.IGNORECASE)
_RESTRICT = re.compile(r"\\(un)?restrict\b")
_COPY_END = re.compile(r"^\\\.\r?$", re.MULTILINE)


@dataclass(frozen=True)
class DumpStatement:
    """One statement to run: where it starts, its text, and for COPY ... FROM stdin its rows."""

    line: int
    sql: str
    copy_data: str | None = None


class _Refused(Exception):
    pass


def read_dump(path: Path) -> list[DumpStatement]:
    """The statements of `path` to run, in order; ScoringError naming the file and line of the
    first one refused (nothing has run then)."""
    text = _read_text(path)
    try:
        return list(_statements(text))
    except _Refused as exc:
        line, why = exc.args
        raise ScoringError(f"sql_dumps: {path.name} line {line}: {why}") from None


def _read_text(path: Path) -> str:
    """The dump's text; the path itself must not be a link (a dump is judged by where it lies)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ScoringError(f"sql_dumps: cannot read {path.name}: {exc.strerror}") from None
    with open(fd, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ScoringError(f"sql_dumps: {path.name} line {line}: not UTF-8 text") from None


@dataclass
class _Statement:
    """A statement being cut: where it starts, its masked text so far, its nesting."""

    start: int
    masked: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # its first words, upper case
    depth: int = 0  # parentheses
    begin_depth: int = 0  # BEGIN ... END of a routine body
    holes: list[tuple[int, int]] = field(default_factory=list)  # dropped lines (\restrict)


class _Cutter:
    """Walks the text once: statements, with their line, their masked copy (comments blanked,
    quoted text replaced by '_', same length) and their first words."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1  # the line `_counted` is on
        self._counted = 0

    def line_at(self, pos: int) -> int:
        if pos >= self._counted:
            self.line += self.text.count("\n", self._counted, pos)
        else:
            self.line -= self.text.count("\n", pos, self._counted)
        self._counted = pos
        return self.line

    def next(self) -> tuple[int, str, str] | None:
        """(line, sql, masked) of the next statement, else None at the end; the cutter stops
        after its ';'. Raises _Refused at a psql meta-command or an unclosed quote."""
        text, statement = self.text, _Statement(self.pos)
        i = self.pos
        while (token := _TOKEN.search(text, i)) is not None:
            statement.masked.append(text[i:token.start()])
            if token.group(0) == ";" and statement.depth == 0 and statement.begin_depth == 0:
                self.pos = token.end()
                return self._finish(statement, token.start())
            i = self._step(token, statement)
        statement.masked.append(text[i:])
        self.pos = len(text)
        return self._finish(statement, len(text)) if "".join(statement.masked).strip() else None

    def _step(self, token: re.Match, statement: _Statement) -> int:
        """Mask one token into `statement`; where the text goes on after it."""
        text, kind, at = self.text, token.group(0), token.start()
        if token.group("word"):
            self._word(kind.upper(), statement)
            statement.masked.append(kind)
            return token.end()
        if kind in ("--", "/*"):
            end = self._comment_end(at) if kind == "/*" else _line_end(text, at)
            statement.masked.append(re.sub(r"[^\n]", " ", text[at:end]))
            return end
        if kind in ("'", '"'):
            escapes = (
                kind == "'" and at > 0 and text[at - 1] in "eE" and not (at > 1 and re.match(r"[\w$]", text[at - 2]))
            )
            close = self._closing_quote(at, escapes)
            statement.masked.append(kind + "_" * (close - at - 1) + kind)
            return close + 1
        if kind.startswith("$"):
            close = text.find(kind, token.end())
            if close < 0:
                raise _Refused(self.line_at(at), f"the dollar quote {kind} never closes")
            statement.masked.append(kind + "_" * (close - token.end()) + kind)
            return close + len(kind)
        if kind == "\\":
            return self._backslash(at, statement)
        if kind == "(":
            statement.depth += 1
        elif kind == ")":
            statement.depth = max(0, statement.depth - 1)
        statement.masked.append(kind)
        return token.end()

    @staticmethod
    def _word(word: str, statement: _Statement) -> None:
        if len(statement.words) < 4:
            statement.words.append(word)
        if word in ("BEGIN", "CASE") and _is_routine(statement.words):
            statement.begin_depth += 1
        elif word == "END" and statement.begin_depth:
            statement.begin_depth -= 1

    def _backslash(self, at: int, statement: _Statement) -> int:
        """pg_dump's \\restrict / \\unrestrict lines are dropped; any other backslash outside
        quotes is a psql meta-command, refused."""
        text = self.text
        if not text[text.rfind("\n", 0, at) + 1:at].strip() and _RESTRICT.match(text, at):
            end = _line_end(text, at)
            statement.masked.append(" " * (end - at))
            statement.holes.append((at, end))
            return end
        command = re.match(r"\\(?:[A-Za-z]+|.)?", text[at:at + 20]).group(0)
        raise _Refused(self.line_at(at), f"refused: `{command}` is a psql meta-command, not SQL (a dump is loaded as "
                                         "plain SQL: nothing in it runs outside the database)")

    def _finish(self, statement: _Statement, end: int) -> tuple[int, str, str]:
        masked = "".join(statement.masked)
        first = len(masked) - len(masked.lstrip())
        return self.line_at(statement.start + first), _without(self.text, statement.start, end, statement.holes), masked

    def _closing_quote(self, start: int, escapes: bool) -> int:
        """Index of the quote closing the one at `start`: doubled quotes are one, and in E''
        strings a backslash escapes the next character."""
        text, quote, i = self.text, self.text[start], start + 1
        pattern = re.compile(r"[\\']" if escapes else re.escape(quote))
        while True:
            found = pattern.search(text, i)
            if found is None:
                what = "string" if quote == "'" else "quoted name"
                raise _Refused(self.line_at(start), f"the {what} opened here never closes")
            i = found.start()
            if found.group(0) == "\\":
                i += 2
            elif text.startswith(quote * 2, i):
                i += 2
            else:
                return i

    def _comment_end(self, start: int) -> int:
        """End of the block comment at `start`; PostgreSQL nests them."""
        depth, i = 0, start
        while True:
            found = re.compile(r"/\*|\*/").search(self.text, i)
            if found is None:
                raise _Refused(self.line_at(start), "the comment opened here never closes")
            depth += 1 if found.group(0) == "/*" else -1
            i = found.end()
            if depth == 0:
                return i

    def copy_rows(self) -> str:
        """The rows after a COPY ... FROM stdin statement: from the next line up to a line `\\.`
        (or the end of the file), which the cutter then steps over."""
        text = self.text
        line_end = text.find("\n", self.pos)
        rest = text[self.pos:] if line_end < 0 else text[self.pos:line_end]
        if rest.strip() and not rest.strip().startswith("--"):
            raise _Refused(self.line_at(self.pos), "text after COPY ... FROM stdin; on the same line (the rows "
                                                   "start on the next line)")
        begin = len(text) if line_end < 0 else line_end + 1
        end = _COPY_END.search(text, begin)
        self.pos = len(text) if end is None else min(len(text), end.end() + 1)
        return text[begin:len(text) if end is None else end.start()]


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _without(text: str, start: int, end: int, holes: list[tuple[int, int]]) -> str:
    """text[start:end] with the holes blanked (same length)."""
    parts, at = [], start
    for begin, stop in holes:
        parts += [text[at:begin], " " * (stop - begin)]
        at = stop
    return "".join(parts) + text[at:end]


def _is_routine(words: list[str]) -> bool:
    """psql's rule for a BEGIN ... END body: the statement is CREATE [OR REPLACE] FUNCTION/PROCEDURE."""
    kinds = [w for w in words[1:] if w not in ("OR", "REPLACE")]
    return bool(words) and words[0] == "CREATE" and bool(kinds) and kinds[0] in ("FUNCTION", "PROCEDURE")


def _statements(text: str) -> Iterator[DumpStatement]:
    cutter = _Cutter(text)
    while (found := cutter.next()) is not None:
        line, sql, masked = found
        tokens = [t.upper() if not t.startswith('"') else t for t in _MASKED_TOKEN.findall(masked)]
        if not tokens:
            continue  # only comments
        action = _verdict(tokens, masked, sql, line)
        if action == "copy":
            yield DumpStatement(line, sql.strip(), cutter.copy_rows())
        elif action == "run":
            yield DumpStatement(line, sql.strip())


def _verdict(tokens: list[str], masked: str, sql: str, line: int) -> str:
    """'run', 'copy' (COPY ... FROM stdin, rows follow) or 'skip'; raises _Refused."""
    first = tokens[0]

    def refuse(why: str) -> _Refused:
        return _Refused(line, f"refused: {why}")

    if first not in _RUN:
        raise refuse(_WHY.get(first, f"{first} is not among the statements a dump may hold ({', '.join(ALLOWED)})"))
    if first in ("BEGIN", "START", "COMMIT", "END"):
        return "skip"  # the dump loads in one transaction
    if first in ("GRANT", "REVOKE"):
        if "ON" in tokens:
            return "skip"  # privileges on objects: the loader grants the reader what it needs
        raise refuse(f"{first} of a role: a dump may not hand out roles")
    if first == "COPY":
        return _copy_verdict(tokens, masked, refuse)
    if first in ("SET", "RESET"):
        return _set_verdict(tokens, masked, sql, refuse)
    if first == "COMMENT":
        return "skip" if len(tokens) > 2 and tokens[2] in _SHARED_COMMENT else "run"
    if first in ("CREATE", "ALTER", "DROP"):
        return _ddl_verdict(tokens, masked, sql, refuse)
    return "run"


def _copy_verdict(tokens: list[str], masked: str, refuse) -> str:
    if _COPY_IN.fullmatch(masked):
        return "copy"
    if "PROGRAM" in tokens:
        raise refuse("COPY ... PROGRAM runs a shell command")
    raise refuse("COPY to or from a file reads or writes the server's files (a dump may only COPY ... FROM stdin, "
                 "with its rows after it)")


def _set_verdict(tokens: list[str], masked: str, sql: str, refuse) -> str:
    rest = tokens[2:] if len(tokens) > 1 and tokens[1] in ("SESSION", "LOCAL") else tokens[1:]
    if rest[:1] == ["ROLE"] or "AUTHORIZATION" in tokens[1:4]:
        raise refuse(f"{tokens[0]} ROLE / SESSION AUTHORIZATION switches the role the dump runs as")
    scs = _SCS.search(masked)
    if (
        tokens[0] == "SET"
        and scs
        and sql[scs.start(1) : scs.end(1)].strip("'\"").lower() not in ("on", "true", "default")
    ):
        raise refuse("standard_conforming_strings must stay on (strings are read as the server reads them)")
    return "run"


def _ddl_verdict(tokens: list[str], masked: str, sql: str, refuse) -> str:
    verb = tokens[0]
    kinds = [t for t in tokens[1:] if t not in _CREATE_SKIP] if verb == "CREATE" else tokens[1:]
    kind = kinds[0] if kinds else ""
    if (
        verb == "ALTER"
        and len(tokens) >= 4
        and tokens[-3:-1] == ["OWNER", "TO"]
        and tokens[-4] not in ("COLUMN", "RENAME")
    ):
        return "skip"  # the loading role owns everything
    if verb == "ALTER" and kind == "DEFAULT":
        return "skip"  # ALTER DEFAULT PRIVILEGES: privileges are the loader's to set
    if verb == "ALTER" and kind == "SYSTEM":
        raise refuse("ALTER SYSTEM changes the server's configuration")
    if kind in _ROLES and kinds[1:2] != ["MAPPING"]:
        raise refuse(f"{verb} {kind} manages roles: a dump may not")
    if kind in _GLOBAL:
        raise refuse(f"{verb} {kind}: {_GLOBAL[kind]}")
    if kind in _OUTSIDE or kinds[1:2] == ["MAPPING"]:
        what = " ".join(kinds[:2]) if kind in ("FOREIGN", "EVENT", "USER") else kind
        raise refuse(f"{verb} {what} reaches outside the database")
    if kind == "EXTENSION":
        if verb == "DROP":
            return "run"
        if verb == "ALTER":
            raise refuse("ALTER EXTENSION runs the extension's scripts")
        return _extension_verdict(masked, sql, refuse)
    if verb == "CREATE" and kind in ("FUNCTION", "PROCEDURE"):
        for found in _LANGUAGE.finditer(masked):
            language = sql[found.start(1):found.end(1)]
            name = language.strip("'\"") if language[0] in "'\"" else language.lower()
            if name not in LANGUAGES:
                raise refuse(
                    f"a function in language {name} (a dump's functions may be in {', '.join(sorted(LANGUAGES))})"
                )
    return "run"


def _extension_verdict(masked: str, sql: str, refuse) -> str:
    found = _EXTENSION_NAME.search(masked)
    name = sql[found.start(1):found.end(1)] if found else ""
    name = name.strip('"') if name.startswith('"') else name.lower()
    if name not in EXTENSIONS:
        raise refuse(f"extension {name or '?'} is not among those a dump may create ({', '.join(sorted(EXTENSIONS))})")
    return "run"
