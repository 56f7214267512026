"""`ftadvisor pull` and `ftadvisor tiny-model` as a user types them."""
from __future__ import annotations

import json

from cli.main import main
from lm.offline import PROVENANCE_FILE, TINY


def test_ftadvisor_pull_prints_the_folder_and_says_when_it_was_there(tmp_path, capsys):
    assert main(["pull", TINY, "--output", str(tmp_path / "t"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == TINY and shown["path"] == str(tmp_path / "t") and shown["already_there"] is False
    assert shown["provenance"]["licence"] == "Apache-2.0"
    assert main(["pull", TINY, "--output", str(tmp_path / "t")]) == 0
    out, err = capsys.readouterr()
    assert out == f"{tmp_path / 't'}\n" and "already there" in err and "random weights" in err


def test_ftadvisor_tiny_model_still_builds_it(tmp_path, capsys):
    assert main(["tiny-model", "--output", str(tmp_path / "tiny")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "tiny")
    assert (tmp_path / "tiny" / "tokenizer.json").is_file() and (tmp_path / "tiny" / PROVENANCE_FILE).is_file()
