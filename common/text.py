"""Reading user files as UTF-8, and saying where they are not: the line and column of the first
bad byte (what an editor shows), not a byte offset. Also `one_line`: a user's string (a file
name, a path, a model name) fit for one line of output."""
from __future__ import annotations

import codecs
import re
from typing import NamedTuple

_BOM = codecs.BOM_UTF8


class BadByte(NamedTuple):
    line: int  # 1-based
    column: int  # 1-based, in characters
    byte: int  # the offending byte's value

    def __str__(self) -> str:
        return f"not UTF-8 text (byte 0x{self.byte:02x} at line {self.line}, column {self.column})"


def utf8_text(raw: bytes) -> str:
    """`raw` decoded as UTF-8 without its byte-order mark, if any (stripped first, so that a
    UnicodeDecodeError's offsets are offsets in `raw` minus the mark: see `bad_byte`)."""
    return raw[len(_BOM):].decode() if raw.startswith(_BOM) else raw.decode()


def bad_byte(raw: bytes, exc: UnicodeDecodeError) -> BadByte:
    """Where `utf8_text(raw)` failed, as a line and column of `raw`."""
    at = exc.start + (len(_BOM) if raw.startswith(_BOM) else 0)
    line_start = raw.rfind(b"\n", 0, at) + 1
    column = len(raw[line_start:at].decode(errors="replace")) + 1
    return BadByte(line=raw.count(b"\n", 0, at) + 1, column=column, byte=raw[at])


# C0 and C1 controls (newline, carriage return, terminal escapes), Unicode line/paragraph
# separators, and the bidirectional overrides and isolates that reorder what a terminal shows
# (CVE-2021-42574, "Trojan Source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(value: object, limit: int | None = None) -> str:
    """`value` as text for one line of output: control characters written as escapes (`\\n`,
    `\\x1b`, `\\u202e`), so a file name cannot start a line of its own, recolour a terminal or
    reorder what it shows; with `limit`, at most `limit` characters, the middle elided (the start
    and the end of a path say the most)."""
    text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
    if limit is None or len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head):]}"
