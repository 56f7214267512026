"""`ftadvisor` as a user starts it: every contract command is listed, and a user error is one
line on stderr with exit code 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("estimate", "models", "gpus", "advise", "report", "tune", "tiny-model", "data", "runs", "rag", "compare")


def _ftadvisor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_help_lists_every_command():
    done = _ftadvisor("--help")
    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("    ") and line.split()}
    assert set(COMMANDS) <= listed, f"missing: {set(COMMANDS) - listed}"


def test_a_user_error_is_one_line_on_stderr_and_exit_2():
    done = _ftadvisor("estimate", "--model", "llama-3.1-8b", "--method", "qlora", "--quant", "none")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("ftadvisor estimate: error: ")
    assert done.stdout == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and f"ftadvisor {command}" in capsys.readouterr().out


def test_the_parser_loads_no_heavy_library():
    # torch & co take seconds to import; numpy alone was 65 ms of a 0.3 s `ftadvisor --help`.
    heavy = ("torch", "transformers", "peft", "trl", "bitsandbytes", "accelerate", "chromadb",
             "sentence_transformers", "numpy")
    code = f"import sys, cli.main; cli.main.build_parser(); print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
