"""Paths the user typed (flags, spec fields, page inputs), made absolute in one place.

`Path.resolve()` fails in ways that reach users as tracebacks: a symlink loop raises
RuntimeError in Python 3.11-3.12 (pathlib `check_eloop`) and is silently left unresolved from
3.13, and `~user` with no such user raises RuntimeError. Here each becomes a ValueError naming
the field; a path that does not exist is returned as it is, for the caller to say what it expected.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path


def resolve_user_path(value: str | os.PathLike, field: str) -> Path:
    """`value` with `~` expanded and symlinks resolved, absolute. Raises ValueError starting
    with `field` for a symlink loop, a folder on the way that cannot be searched, or an unknown
    home folder."""
    try:
        path = Path(value).expanduser().resolve()
        os.stat(path)  # from Python 3.13 resolve() no longer raises for a loop: stat() still does
    except RuntimeError as exc:
        if "Symlink loop" in str(exc):
            raise ValueError(_loop(field, value)) from None
        raise ValueError(f"{field}: cannot use {value} ({exc})") from None
    except (FileNotFoundError, NotADirectoryError):
        return path
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(_loop(field, value)) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ValueError(f"{field}: cannot read {value} (permission denied)") from None
        raise ValueError(f"{field}: cannot use {value} ({exc.strerror or exc})") from None
    return path


def _loop(field: str, value: str | os.PathLike) -> str:
    return f"{field}: {value} is a symlink loop (a link that leads back to itself): give the real file or folder"
