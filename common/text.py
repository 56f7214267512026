"""Reading user files as UTF-8, and saying where they are not: the line and column of the first
bad byte (what an editor shows), not a byte offset."""
from __future__ import annotations

import codecs
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
