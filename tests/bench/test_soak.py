"""The soak check in small: two tuning rounds of start / SIGKILL at a random moment / resume,
each ending with exactly the requested steps, one worker at a time and every step logged once;
`python -m bench soak` knows it."""
import pytest

from bench import soak
from bench.__main__ import available

pytestmark = pytest.mark.slow


def test_a_short_soak_keeps_every_rule(tiny_model_dir):
    result = soak.run(tiny_model_dir, rounds=2, compare_rounds=0, steps=8, max_kills=1, seed=1, time_limit_s=600)
    assert [r.problems for r in result.rounds] == [[], []] and result.ok
    assert sum(len(r.kills) for r in result.rounds) >= 2 and max(r.most_workers for r in result.rounds) == 1
    text = soak.markdown(result)
    assert (
        "| rounds that kept every rule | 2 / 2 |" in text and "| most workers seen on one folder at once | 1 |" in text
    )


def test_the_soak_is_a_bench_name():
    assert "soak" in available()
