"""The one way tests wait for something another process or thread does: poll, never sleep a
fixed time."""
from __future__ import annotations

import subprocess
import time
import urllib.request
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], *, timeout_s: float = 60.0, poll_s: float = 0.05,
               what: str, detail: Callable[[], str] | None = None) -> T:
    """Call `predicate` every `poll_s` until it returns something truthy, and return that. On
    timeout: AssertionError("no <what> within <timeout_s> s" + ": " + detail()). Monotonic clock.
    An exception in `predicate` propagates (a run that failed is said at once, not after the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"no {what} within {timeout_s:g} s" + (f": {detail()}" if detail else ""))
        time.sleep(poll_s)


def serves(url: str, server: subprocess.Popen, name: str) -> bool:
    """Whether `url` answers 200 now (a predicate for wait_until); a server that has exited is
    said at once."""
    if server.poll() is not None:
        raise RuntimeError(f"{name} exited with {server.returncode}")
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
