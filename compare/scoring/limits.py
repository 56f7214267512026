"""How long scoring may take, and when it must stop: one deadline for the whole stage, one per
answer, and the run's cancel request; a watcher thread that cancels the query running on the
server when one of them says stop (the server's `statement_timeout` alone is not enough: a query
cannot see a cancel request, and no deadline of ours reaches inside the server).

    limits = Limits(stage_s=3600, answer_s=60, cancel_requested=lambda: runs.cancel_requested(run_dir))
    limits.start_answer()
    limits.check()                          # raises Stopped("answer" | "stage" | "cancel")
    with Watch(limits) as watch, watch.query(conn, timeout_s=10):
        ...                                 # conn.cancel() from the thread when it must stop
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

Scope = Literal["answer", "stage", "cancel", "query"]
CANCEL_POLL_S = 0.25  # how often the cancel request (a file) is looked at: cancel is honoured within ~0.5 s
WATCH_POLL_S = 0.1


class Stopped(Exception):
    """Scoring must stop here: the answer's or the stage's deadline passed, or the run was cancelled."""

    def __init__(self, scope: Scope, message: str):
        super().__init__(message)
        self.scope = scope


class Limits:
    """The deadlines and the cancel request of one scoring session (monotonic clock)."""

    def __init__(self, *, stage_s: float | None = None, answer_s: float | None = None,
                 cancel_requested: Callable[[], bool] | None = None):
        self.stage_s, self.answer_s = stage_s, answer_s
        self._stage_end = time.monotonic() + stage_s if stage_s else math.inf
        self._answer_end = math.inf
        self._cancel_requested = cancel_requested
        self._cancelled = False
        self._polled = -math.inf

    def start_answer(self) -> None:
        self._answer_end = time.monotonic() + self.answer_s if self.answer_s else math.inf

    def end_answer(self) -> None:
        self._answer_end = math.inf

    def cancelled(self) -> bool:
        """Whether the run was asked to stop (looked up at most every CANCEL_POLL_S; once true, stays)."""
        if not self._cancelled and self._cancel_requested is not None:
            now = time.monotonic()
            if now - self._polled >= CANCEL_POLL_S:
                self._polled = now
                self._cancelled = bool(self._cancel_requested())
        return self._cancelled

    def stop_reason(self) -> Stopped | None:
        if self.cancelled():
            return Stopped("cancel", "the run was cancelled")
        now = time.monotonic()
        if now >= self._stage_end:
            return Stopped("stage", f"not scored: the score stage passed its deadline ({self.stage_s:g} s)")
        if now >= self._answer_end:
            return Stopped("answer", f"scoring this answer passed its deadline ({self.answer_s:g} s)")
        return None

    def check(self) -> None:
        if (reason := self.stop_reason()) is not None:
            raise reason

    def remaining_s(self) -> float:
        return min(self._stage_end, self._answer_end) - time.monotonic()


class Watch:
    """A thread that cancels the query running on a connection (psycopg's `cancel()`, safe from
    another thread) when the limits say stop or the query outlives its own timeout."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.fired: Stopped | None = None  # why the last query was cancelled by this watch
        self._active: tuple[Any, float, float] | None = None  # (connection, end on the clock, timeout_s)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def query(self, conn: Any, timeout_s: float) -> Iterator[None]:
        """Watch `conn` while the block runs a query on it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ftadvisor-sql-watch", daemon=True)
            self._thread.start()
        with self._lock:
            self.fired = None
            self._active = (conn, time.monotonic() + timeout_s, timeout_s)
        try:
            yield
        finally:
            with self._lock:
                self._active = None

    def _loop(self) -> None:
        while not self._stop.wait(WATCH_POLL_S):
            with self._lock:
                if self._active is None:
                    continue
                conn, end, timeout_s = self._active
                why = self.limits.stop_reason()
                if why is None and time.monotonic() >= end:
                    why = Stopped("query", f"canceled after {timeout_s:g} s")
                if why is not None:
                    self.fired, self._active = why, None
                    conn.cancel()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
