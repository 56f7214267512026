"""Keep a file a user uploaded on a page: one saver for every page.

The uploaded name is never used as a path as it is: the stem is reduced to letters, digits, '_'
and '-' (it is kept because retrieval names a passage's document by it and hit@k matches a
column against it), the suffix is checked against what the page accepts, and a different file
with the same name gets `-2`, `-3`... The same bytes under the same name land in the same file,
so a page that reruns (Streamlit reruns the script on every click) saves nothing twice.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path


class UploadError(ValueError):
    """An upload the page cannot keep (type, size)."""


def safe_stem(name: str) -> str:
    """`Q3 report (final).PDF` -> `Q3_report_final`; never empty."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name).stem).strip("_")[:80] or "upload"


def save_upload(name: str, data: bytes, folder: Path, *, max_bytes: int, suffixes: tuple[str, ...]) -> Path:
    """Write `data` under `folder` as `<safe stem><suffix>` and return the path."""
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise UploadError(f"{name}: unsupported file type {suffix or '(none)'}: use one of {', '.join(suffixes)}")
    if len(data) > max_bytes:
        raise UploadError(f"{name} is {len(data) / 2**20:.1f} MB: the limit is {max_bytes / 2**20:.0f} MB")
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).digest()
    stem, n = safe_stem(name), 1
    while True:
        target = folder / f"{stem}{'' if n == 1 else f'-{n}'}{suffix}"
        if not target.exists() and not target.is_symlink():
            _write_new(target, data)
            return target
        # A link (even a dangling one) is someone else's file: never read or written through.
        if not target.is_symlink() and hashlib.sha256(target.read_bytes()).digest() == digest:
            return target
        n += 1


def _write_new(target: Path, data: bytes) -> None:
    """`data` into `target` through a temporary file of our own (O_EXCL | O_NOFOLLOW: a name
    planted in the folder, a link included, is never written through), then renamed: readers
    never see half a file."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
