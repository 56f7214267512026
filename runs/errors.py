"""Errors of the run machinery; each message names the run folder (or file) and what to do."""
from __future__ import annotations


class RunsError(ValueError):
    """A run folder that cannot do what was asked: resume a completed run, reuse a taken folder, ..."""


class RunBusy(RunsError):
    """Another process holds the run: a living worker, or a launch/resume in progress."""


class RunDamaged(RunsError):
    """A run file (status.json, spec.json) that is not whole or not what it should be."""


class RunWriteError(RunsError):
    """A run file the disk would not take (full, read-only, ...): `errno` and `strerror` as the
    OSError had them, the message one line naming the file and what to do."""

    def __init__(self, message: str, errno: int | None = None, strerror: str | None = None):
        super().__init__(message)
        self.errno, self.strerror = errno, strerror
