"""Paths the user typed (flags, spec fields, page inputs), made absolute in one place.

`Path.resolve()` fails in ways that reach users as tracebacks: a symlink loop raises
RuntimeError in Python 3.11-3.12 (pathlib `check_eloop`) and is silently left unresolved from
3.13, and `~user` with no such user raises RuntimeError. Here each becomes a ValueError naming
the field; a path that does not exist is returned as it is, for the caller to say what it expected.
"""
from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

from common.text import one_line

MAX_PATH_CHARS = 4096  # Linux PATH_MAX (linux/limits.h): no longer path names a file
SHOWN_CHARS = 100  # the most of a typed path an error line echoes


def resolve_user_path(value: str | os.PathLike, field: str) -> Path:
    """`value` with `~` expanded and symlinks resolved, absolute. Raises ValueError starting
    with `field` for a NUL byte, a path longer than PATH_MAX (refused before any system call:
    resolving 100,000 characters took 13 s), a symlink loop, a name longer than the file system
    takes, a folder on the way that cannot be searched, or an unknown home folder. The path is
    echoed on one line, at most SHOWN_CHARS of it."""
    text = os.fspath(value)
    shown = one_line(text, SHOWN_CHARS)
    if "\x00" in text:
        raise ValueError(f"{field}: {shown} holds a NUL byte (\\x00), which no path can hold")
    if len(text) > MAX_PATH_CHARS:
        raise ValueError(f"{field}: the path is {len(text):,} characters long: at most {MAX_PATH_CHARS:,} (PATH_MAX) "
                         f"can name a file ({shown})")
    try:
        path = Path(text).expanduser().resolve()
        os.stat(path)  # from Python 3.13 resolve() no longer raises for a loop: stat() still does
    except RuntimeError as exc:
        if "Symlink loop" in str(exc):
            raise ValueError(_loop(field, shown)) from None
        raise ValueError(f"{field}: cannot use {shown} ({one_line(exc, SHOWN_CHARS)})") from None
    except (FileNotFoundError, NotADirectoryError):
        return path
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(_loop(field, shown)) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ValueError(f"{field}: cannot read {shown} (permission denied)") from None
        raise ValueError(f"{field}: cannot use {shown} ({exc.strerror or exc})") from None
    return path


def _loop(field: str, shown: str) -> str:
    return f"{field}: {shown} is a symlink loop (a link that leads back to itself): give the real file or folder"


def leads_out(entry: Path, folder: Path) -> bool:
    """True when `entry`, found by walking `folder` (resolved), resolves outside it: a symlink
    (or one on the way) that a folder walk must not follow, also when it dangles or loops. A
    folder the user named is what they let us read, not what its links point at (README, What a
    page may read)."""
    try:
        target = entry.resolve()
        os.stat(target)  # a loop: ELOOP (resolve() leaves it unresolved from Python 3.13)
    except (FileNotFoundError, NotADirectoryError):
        pass
    except (OSError, RuntimeError):  # a loop (RuntimeError before 3.13), a folder that cannot be searched
        return True
    return not target.is_relative_to(folder)


class PathNotAllowed(ValueError):
    """A path typed on a page outside the folders the settings let a page read."""


def readable_on_a_page(value: str, field: str, settings, *, also: Sequence[Path] = ()) -> Path:
    """A path typed on a page, resolved, if it lies inside one of `settings.readable_dirs` (the
    home's data/ and uploads/ folders, and FTADVISOR_DATA_DIRS) or of `also` (folders the app
    fills itself: the stores folder for a store, the models folder for a model); else
    PathNotAllowed saying how to allow it. The command line reads any path its user can: a page
    serves whoever opens it, so it reads only what was put where it may (README, The app: what a
    page may read)."""
    path = resolve_user_path(value.strip(), field)
    allowed = [resolve_user_path(d, "FTADVISOR_DATA_DIRS") for d in (*also, *settings.readable_dirs)]
    if any(path == root or path.is_relative_to(root) for root in allowed):
        return path
    upload = "" if also else "upload the file, "  # a store or a model folder cannot be uploaded
    raise PathNotAllowed(
        f"{field}: {one_line(path)} is outside the folders this app may read ({', '.join(str(d) for d in allowed)}): "
        f"{upload}copy it into {allowed[0]}, or add its folder to FTADVISOR_DATA_DIRS and restart the app")
