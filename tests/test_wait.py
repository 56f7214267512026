"""wait_until: returns what the predicate found, says what never came, lets a failure through."""
import pytest

from tests.wait import wait_until


def test_returns_the_first_truthy_value():
    answers = iter([None, 0, [], "step 3"])
    assert wait_until(lambda: next(answers), poll_s=0, what="answer") == "step 3"


def test_a_timeout_names_what_never_came_and_the_detail():
    with pytest.raises(AssertionError, match=r"^no marker file within 0\.05 s: the log says nothing$"):
        wait_until(lambda: False, timeout_s=0.05, poll_s=0.01, what="marker file",
                   detail=lambda: "the log says nothing")


def test_an_exception_in_the_predicate_propagates_at_once():
    calls = []

    def failed():
        calls.append(1)
        raise RuntimeError("the run failed")

    with pytest.raises(RuntimeError, match="the run failed"):
        wait_until(failed, timeout_s=60, what="step")
    assert calls == [1]
