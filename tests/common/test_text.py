"""`one_line`: a file name or a user's string fit for one line of output."""
from __future__ import annotations

import pytest

from common.text import one_line


@pytest.mark.parametrize("value, shown", [
    ("plain name.jsonl", "plain name.jsonl"),
    ("a.png\nrag: 99 file(s) indexed", "a.png\\nrag: 99 file(s) indexed"),
    ("back\rover", "back\\rover"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),           # a terminal colour / cursor escape
    ("line\u2028sep", "line\\u2028sep"),                      # Unicode line separator
    ("right\u202eto left", "right\\u202eto left"),            # a bidi override that reorders what is shown
    ("tab\there", "tab\\there"),
    ("café ünïcode", "café ünïcode"),
])
def test_control_characters_are_escaped(value, shown):
    assert one_line(value) == shown


def test_a_limit_keeps_the_start_and_the_end():
    text = one_line("/data/" + "a" * 1000 + "/train.jsonl", limit=80)
    assert len(text) == 80 and text.startswith("/data/aaa") and text.endswith("/train.jsonl") and "…" in text
    assert one_line("short", limit=80) == "short"
