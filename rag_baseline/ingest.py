"""Read documents into text: .txt .md .csv .json .jsonl .sql .html .pdf (text layer).

Each reader returns the text plus the `kind` the chunker uses (markdown-like prose, SQL, or
records). A file that cannot be read (binary, not UTF-8, no text layer, unreadable) is not an
error for the whole run: `read_documents` skips it and says why.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Literal

from common.paths import leads_out, resolve_user_path
from common.text import bad_byte, utf8_text
from rag_baseline.errors import RagError
from rag_baseline.schemas import SkippedFile

Kind = Literal["markdown", "sql", "records"]
MAX_FILE_BYTES = 50 * 1024 * 1024  # bigger files are skipped: likely data dumps, not documents
_TOO_DEEP = "nested too deeply (more levels than Python's JSON reader takes)"


@dataclass(frozen=True)
class Document:
    path: Path
    kind: Kind
    text: str


class UnreadableFile(Exception):
    """Raised by a reader for a file it cannot turn into text; the message is the reason."""


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        return utf8_text(data)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{bad_byte(data, exc)}: re-save it as UTF-8") from None


def _read_text(path: Path) -> str:
    return _decode(path.read_bytes())


def _record_text(record: object) -> str:
    """A JSON/CSV record as `key: value` lines, so field names are searchable."""
    if isinstance(record, dict):
        return "\n".join(f"{k}: {_scalar(v)}" for k, v in record.items())
    return _scalar(record)


def _scalar(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def read_csv(path: Path) -> tuple[Kind, str]:
    text = _read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    return "records", "\n\n".join(_record_text({k: v for k, v in r.items() if k}) for r in rows)


def read_json(path: Path) -> tuple[Kind, str]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:  # json's decoder recurses once per level
        raise UnreadableFile(f"invalid JSON: {_TOO_DEEP}") from None
    records = data if isinstance(data, list) else [data]
    return "records", "\n\n".join(_record_text(r) for r in records)


def read_jsonl(path: Path) -> tuple[Kind, str]:
    records = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(_record_text(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"invalid JSON on line {number}: {exc.msg}") from None
        except RecursionError:
            raise UnreadableFile(f"invalid JSON on line {number}: {_TOO_DEEP}") from None
    return "records", "\n\n".join(records)


class _HtmlToText(HTMLParser):
    """Visible text with headings as `#` lines and blocks as paragraphs; scripts/styles dropped."""

    _BLOCKS = {"p", "div", "li", "tr", "section", "article", "br", "table", "ul", "ol", "pre", "blockquote"}
    _HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag in self._HEADINGS:
            self.parts.append("\n\n" + "#" * self._HEADINGS[tag] + " ")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript", "template"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._HEADINGS or tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def read_html(path: Path) -> tuple[Kind, str]:
    parser = _HtmlToText()
    parser.feed(_read_text(path))
    lines = [line.strip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return "markdown", text.strip()


def read_pdf(path: Path) -> tuple[Kind, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise UnreadableFile("encrypted PDF")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise UnreadableFile(f"not a readable PDF ({exc})") from None
    return "markdown", "\n\n".join(p for p in pages if p)


READERS: dict[str, Callable[[Path], tuple[Kind, str]]] = {
    ".txt": lambda p: ("markdown", _read_text(p)),
    ".md": lambda p: ("markdown", _read_text(p)),
    ".markdown": lambda p: ("markdown", _read_text(p)),
    ".sql": lambda p: ("sql", _read_text(p)),
    ".csv": read_csv,
    ".json": read_json,
    ".jsonl": read_jsonl,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
}
SUPPORTED_SUFFIXES = tuple(READERS)  # what the RAG and Compare pages take as documents


def read_document(path: Path) -> Document:
    """One file as text, or UnreadableFile with the reason."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableFile(f"unsupported file type {path.suffix or '(none)'} "
                             f"(supported: {' '.join(SUPPORTED_SUFFIXES)})")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(f"larger than {MAX_FILE_BYTES // 2**20} MB ({size // 2**20} MB)")
        kind, text = reader(path)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it ({exc.strerror or exc})") from None
    if not text.strip():
        raise UnreadableFile("no text in it (empty file?)")
    return Document(path=path, kind=kind, text=text)


def find_files(paths: list[str | Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Expand folders (recursively, hidden entries left out) into files; missing paths are an error.

    Files in folders with an unsupported suffix, and symlinks that lead out of the folder, are
    skipped and listed; a file named explicitly is always tried (and skipped with its reason if it
    cannot be read).
    """
    if not paths:
        raise RagError("no documents given: pass files or folders")
    files: dict[Path, None] = {}
    skipped: list[SkippedFile] = []
    for raw in paths:
        path = resolve_user_path(raw, "docs")
        if not path.exists():
            raise RagError(f"{raw}: no such file or folder")
        if path.is_file():
            files[path] = None
            continue
        found = 0
        for child in sorted(path.rglob("*")):
            rel = child.relative_to(path)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if leads_out(child, path):
                found += 1
                skipped.append(SkippedFile(path=str(child), reason=f"a symlink that leads out of {path}: not followed"))
                continue
            if not child.is_file():
                continue
            found += 1
            if child.suffix.lower() in READERS:
                files[child.resolve()] = None
            else:
                skipped.append(SkippedFile(path=str(child), reason=f"unsupported file type {child.suffix or '(none)'}"))
        if found == 0:
            raise RagError(f"{path}: the folder is empty (supported files: {' '.join(SUPPORTED_SUFFIXES)})")
    return list(files), skipped


def read_documents(paths: list[str | Path]) -> tuple[list[Document], list[SkippedFile]]:
    """Every readable document under `paths`, and the files skipped with their reasons."""
    files, skipped = find_files(paths)
    documents = []
    for path in files:
        try:
            documents.append(read_document(path))
        except UnreadableFile as exc:
            skipped.append(SkippedFile(path=str(path), reason=str(exc)))
    return documents, skipped

