"""Deadlines, the cancel request, and the watcher that cancels a query on the server."""
from __future__ import annotations

import time

import psycopg
import pytest

from compare.scoring.limits import CANCEL_POLL_S, Limits, Stopped, Watch
from tests.wait import wait_until


def test_the_answer_deadline_runs_from_start_answer_and_the_stage_deadline_from_the_start():
    limits = Limits(stage_s=60, answer_s=1e-9)
    limits.check()  # no answer started yet
    limits.start_answer()
    with pytest.raises(Stopped) as info:
        limits.check()
    assert (info.value.scope, str(info.value)) == ("answer", "scoring this answer passed its deadline (1e-09 s)")
    limits.end_answer()
    limits.check()
    assert Limits(stage_s=1e-9).stop_reason().scope == "stage"


def test_the_cancel_request_is_looked_at_every_poll_and_stays_seen():
    calls = []

    def requested() -> bool:
        calls.append(time.monotonic())
        return len(calls) >= 2

    limits = Limits(cancel_requested=requested)
    assert not limits.cancelled()
    # Asked again and again (poll_s=0): the request is looked at once per CANCEL_POLL_S.
    wait_until(limits.cancelled, timeout_s=5, poll_s=0, what="cancel seen")
    assert len(calls) == 2 and calls[1] - calls[0] >= CANCEL_POLL_S
    assert limits.cancelled() and len(calls) == 2 and limits.stop_reason().scope == "cancel"


def test_the_watch_cancels_a_query_that_outlives_its_own_timeout(pg):
    with psycopg.connect(pg.url("postgres")) as conn, Watch() as watch:
        began = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled), watch.query(conn, timeout_s=0.3):
            conn.execute("SELECT set_config('statement_timeout', '0', false), pg_sleep(30)")
        assert watch.fired.scope == "query" and time.monotonic() - began < 10
