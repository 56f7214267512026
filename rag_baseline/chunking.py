"""Structure-aware chunking with a size and an overlap, both in characters.

Text is first cut into *blocks* that should stay whole — a heading's paragraphs, one SQL
statement (a whole CREATE TABLE, a COPY with its data rows), one CSV/JSON record — and blocks
are then packed into chunks of at most `chunk_size` characters. A new heading always starts a
new chunk. Only a block longer than `chunk_size` is cut, at line, then sentence, then word
boundaries, and its pieces repeat the block's first line (`CREATE TABLE x (`, `COPY x (...)
FROM stdin;`) so each piece still says what it belongs to. Consecutive chunks of one section
share up to `chunk_overlap` characters.

Why characters: all-MiniLM-L6-v2 reads at most 256 word pieces (longer input is cut), about
1,000 characters of English and fewer of SQL; the 800 default stays under that.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from rag_baseline.errors import RagError
from rag_baseline.ingest import Document
from rag_baseline.schemas import Chunk

DEFAULT_CHUNK_SIZE = 800
DEFAULT_CHUNK_OVERLAP = 100
MIN_CHUNK_SIZE = 50
MAX_CHUNK_SIZE = 8000


@dataclass
class Block:
    text: str
    start: int
    section: str = ""
    new_section: bool = False
    header: str = ""  # repeated on every piece when the block has to be cut


@dataclass
class Piece:
    text: str
    start: int
    section: str


def validate_sizes(chunk_size: int, chunk_overlap: int) -> None:
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise RagError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} characters, got {chunk_size}")
    if not 0 <= chunk_overlap < chunk_size // 2:
        raise RagError(
            f"chunk_overlap must be between 0 and half the chunk size ({chunk_size // 2 - 1}), got {chunk_overlap}"
        )


# --- blocks -------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def markdown_blocks(text: str) -> list[Block]:
    """Paragraphs (blank-line separated; fenced code kept whole) under their heading path."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    para: list[str] = []
    para_start = 0
    in_fence = False
    offset = 0

    def close_paragraph() -> None:
        if para and "".join(para).strip():
            blocks.append(Block("\n".join(para).strip("\n"), para_start, " > ".join(h for _, h in headings)))
        para.clear()

    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if stripped.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(stripped)
        if heading:
            close_paragraph()
            level = len(heading.group(1))
            headings[:] = [h for h in headings if h[0] < level] + [(level, heading.group(2))]
            blocks.append(Block(stripped, offset, " > ".join(h for _, h in headings), new_section=True))
        elif not stripped.strip() and not in_fence:
            close_paragraph()
        else:
            if not para:
                para_start = offset
            para.append(stripped)
        offset += len(line)
    close_paragraph()
    return blocks


_SQL_MARK = re.compile(r"--|/\*|['\"$;]")  # what can start a comment, a quote or end a statement
_DOLLAR_TAG = re.compile(r"\$[A-Za-z_0-9]*\$")
_COPY_FROM_STDIN = re.compile(r"\bFROM\s+stdin\s*;$", re.IGNORECASE)
_COPY_END = re.compile(r"^\\\.\s*$", re.MULTILINE)


def sql_statement_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each statement, leading comments included; quotes, comments, dollar
    quotes and COPY ... FROM stdin data (up to the `\\.` line) are never cut. Linear in the text:
    each step jumps to the next mark (a 20 MB dump is scanned in about a second)."""
    spans: list[tuple[int, int]] = []
    n, start, i = len(text), 0, 0
    while (mark := _SQL_MARK.search(text, i)) is not None:
        i, token = mark.start(), mark.group()
        if token == "--":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
        elif token == "/*":
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif token in ("'", '"'):
            i = _quote_end(text, i + 1, token)
        elif token == "$":
            tag = _DOLLAR_TAG.match(text, i)  # match at i: no copy of the rest of the text
            if tag is None:
                i += 1
            else:
                close = text.find(tag.group(0), tag.end())
                i = n if close < 0 else close + len(tag.group(0))
        else:  # ";" ends a statement; COPY ... FROM stdin; runs on to its data's "\\." line
            end = i + 1
            if _COPY_FROM_STDIN.search(text, start, end) and _code(text[start:end]).upper().startswith("COPY"):
                terminator = _COPY_END.search(text, end)
                end = n if terminator is None else terminator.end()
            spans.append((start, end))
            start = i = end
    if text[start:].strip():
        spans.append((start, n))
    return spans


def _quote_end(text: str, i: int, quote: str) -> int:
    """The index after the quote closing the one before `i` (a doubled quote is an escaped one)."""
    while (close := text.find(quote, i)) >= 0:
        if not text.startswith(quote, close + 1):
            return close + 1
        i = close + 2
    return len(text)


def _code(statement: str) -> str:
    """The statement without its leading comment lines and blank lines."""
    lines = [line for line in statement.strip().splitlines() if line.strip() and not line.lstrip().startswith("--")]
    return "\n".join(lines).strip()


def sql_blocks(text: str) -> list[Block]:
    blocks = []
    for start, end in sql_statement_spans(text):
        raw = text[start:end]
        body = raw.strip()
        if not body:
            continue
        code = _code(body)
        first = code.splitlines()[0] if code else body.splitlines()[0]
        blocks.append(Block(body, start + raw.find(body), first[:100].rstrip(" ("), header=first))
    return blocks


def record_blocks(text: str) -> list[Block]:
    """Records (CSV rows, JSON objects) are separated by blank lines."""
    blocks, offset = [], 0
    for part in re.split(r"(\n\s*\n)", text):
        if part.strip() and not re.fullmatch(r"\n\s*\n", part):
            blocks.append(Block(part.strip("\n"), offset))
        offset += len(part)
    return blocks


BLOCKERS = {"markdown": markdown_blocks, "sql": sql_blocks, "records": record_blocks}


# --- packing ------------------------------------------------------------------------------


def _tail(text: str, size: int) -> str:
    """The last <= size characters, starting at a line or word boundary ('' when size is 0)."""
    if size <= 0 or not text:
        return ""
    tail = text[-size:]
    if len(tail) == len(text):
        return ""
    for sep in ("\n", " "):
        cut = tail.find(sep)
        if cut >= 0:
            return tail[cut + 1:]
    return tail


def _units(text: str, limit: int) -> list[str]:
    """Cut text into units no longer than `limit` that keep their separators: lines, else
    sentences, else words, else characters. Joining the units gives the text back."""
    for pattern in (r"(?<=\n)", r"(?<=[.!?]\s)", r"(?<=\s)"):
        parts = [p for p in re.split(pattern, text) if p]
        if len(parts) > 1:
            out: list[str] = []
            for p in parts:
                out.extend([p] if len(p) <= limit else _units(p, limit))
            return out
    return [text[i:i + limit] for i in range(0, len(text), limit)]


def _split_block(block: Block, size: int, overlap: int) -> list[Piece]:
    """Cut one over-long block; pieces after the first start with the block's header line and
    repeat the last whole units (up to `overlap` characters) of the piece before."""
    header = block.header.strip() + "\n" if block.header and len(block.header) < size // 2 else ""
    limit = size - len(header)
    pieces: list[str] = []
    current: list[str] = []
    for unit in _units(block.text, limit):
        if current and sum(map(len, current)) + len(unit) > (limit if pieces else size):
            pieces.append("".join(current))
            carried: list[str] = []
            for prev in reversed(current):
                if sum(map(len, carried)) + len(prev) + len(unit) > min(overlap, limit - len(unit)):
                    break
                carried.insert(0, prev)
            current = carried
        current.append(unit)
    if "".join(current).strip():
        pieces.append("".join(current))
    return [Piece((header if n else "") + p.strip("\n"), block.start, block.section)
            for n, p in enumerate(pieces) if p.strip()]


def _carry(blocks: list[Block], overlap: int) -> list[Block]:
    """What the next chunk repeats of the previous one: its last whole blocks that fit in
    `overlap` characters, else (prose only) the tail of its last block; SQL never carries
    half a statement."""
    carried: list[Block] = []
    total = 0
    for block in reversed(blocks):
        if total + len(block.text) + 2 > overlap:
            break
        carried.insert(0, block)
        total += len(block.text) + 2
    if carried or not blocks or blocks[-1].header or overlap <= 0:
        return carried
    tail = _tail(blocks[-1].text, overlap)
    return [Block(tail, blocks[-1].start + len(blocks[-1].text) - len(tail), blocks[-1].section)] if tail else []


def pack_blocks(blocks: list[Block], chunk_size: int, chunk_overlap: int) -> list[Piece]:
    """Greedy packing of whole blocks into chunks; see the module docstring."""
    pieces: list[Piece] = []
    current: list[Block] = []

    def size(blocks_: list[Block]) -> int:
        return sum(len(b.text) for b in blocks_) + 2 * max(0, len(blocks_) - 1)

    def flush() -> None:
        text = "\n\n".join(b.text for b in current).strip()
        if text:
            pieces.append(Piece(text, current[0].start, current[-1].section or current[0].section))
        current.clear()

    def start_with_context(block: Block, carried: list[Block]) -> None:
        """A chunk that continues a section names its heading, then repeats the overlap."""
        heading = block.section.split(" > ")[-1] if block.section and not block.header else ""
        if heading and not block.new_section and size(carried + [block]) + len(heading) + 4 <= chunk_size:
            current.append(Block(f"({heading})", block.start, block.section))
        if carried and size(current + carried + [block]) <= chunk_size:
            current.extend(carried)

    for block in blocks:
        if block.new_section and current:
            flush()
        if len(block.text) > chunk_size:
            lead = "\n\n".join(b.text for b in current) if size(current) < chunk_size // 4 else ""
            if not lead:
                flush()
            split = _split_block(block, chunk_size - (len(lead) + 2 if lead else 0), chunk_overlap)
            if lead:
                split[0].text, split[0].start = lead + "\n\n" + split[0].text, current[0].start
                current.clear()
            pieces.extend(split)
            continue
        if current and size(current) + 2 + len(block.text) > chunk_size:
            carried = _carry(current, chunk_overlap)
            flush()
            start_with_context(block, carried)
        elif not current and pieces and pieces[-1].section == block.section:
            start_with_context(block, [])
        current.append(block)
    flush()
    return pieces


def chunk_text(text: str, kind: str, chunk_size: int = DEFAULT_CHUNK_SIZE,
               chunk_overlap: int = DEFAULT_CHUNK_OVERLAP) -> list[Piece]:
    validate_sizes(chunk_size, chunk_overlap)
    return pack_blocks(BLOCKERS[kind](text), chunk_size, chunk_overlap)


def short_hash(text: str, n: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def chunk_document(doc: Document, chunk_size: int = DEFAULT_CHUNK_SIZE,
                   chunk_overlap: int = DEFAULT_CHUNK_OVERLAP) -> list[Chunk]:
    """A document's chunks with stable ids: source hash : position : content hash."""
    source = str(doc.path)
    source_key = short_hash(source, 12)
    chunks = []
    for position, piece in enumerate(chunk_text(doc.text, doc.kind, chunk_size, chunk_overlap)):
        content_hash = short_hash(piece.text)
        chunks.append(Chunk(
            id=f"{source_key}:{position:05d}:{content_hash}", text=piece.text, source=source,
            position=position, start_char=piece.start, content_hash=content_hash, section=piece.section,
        ))
    return chunks
