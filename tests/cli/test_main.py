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


@pytest.mark.parametrize("command, flag, field", [
    ("tune", "--rank", ("tuning.spec", "JobSpec", "lora_rank")),
    ("tune", "--seq-len", ("tuning.spec", "JobSpec", "max_seq_len")),
    ("compare", "--answer-batch-size", ("compare.spec", "GenerationSettings", "batch_size")),
    ("estimate", "--rank", ("estimator.request", "EstimateRequest", "lora_rank")),
    ("estimate", "--seq-len", ("estimator.request", "EstimateRequest", "seq_len")),
])
def test_flag_help_states_the_fields_own_default_and_bounds(command, flag, field, capsys):
    import importlib

    info = getattr(importlib.import_module(field[0]), field[1]).model_fields[field[2]]
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split("options:", 1)[1].split())
    bounds = [m for m in info.metadata if hasattr(m, "ge")][0].ge
    assert f"{flag} N {info.description.rstrip('.')} ({bounds}.." in help_text
    assert f"default: {info.default})" in help_text.split(f"{flag} N", 1)[1].split("--", 1)[0]


def test_the_parser_loads_no_heavy_library():
    # torch & co take seconds to import; numpy alone was 65 ms of a 0.3 s `ftadvisor --help`.
    heavy = ("torch", "transformers", "peft", "trl", "bitsandbytes", "accelerate", "chromadb",
             "sentence_transformers", "numpy")
    code = f"import sys, cli.main; cli.main.build_parser(); print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["data check {loop}", "tune --model m --data {loop} --output {out}",
                                     "compare --model m --data {loop} --output {out}",
                                     "rag index --docs {loop} --store {out}"])
def test_a_symlink_loop_as_input_is_one_line_not_a_traceback(command, tmp_path, capsys):
    loop = tmp_path / "loop.jsonl"
    loop.symlink_to(loop)
    argv = command.format(loop=loop, out=tmp_path / "out").split()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"{loop} is a symlink loop" in err, err
    assert not (tmp_path / "out").exists()


def test_a_closed_pipe_ends_quietly():
    # `ftadvisor gpus | head -1`: the reader is gone before the output is flushed. Python's docs
    # (signal module, "Note on SIGPIPE"): point stdout at devnull and exit 1, no traceback.
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "cli.main", "gpus"], cwd=REPO, stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""


@pytest.mark.parametrize("command", ["data check {folder}", "tune --model m --data {folder} --output {out}",
                                     "compare --model m --data {folder} --output {out}"])
@pytest.mark.parametrize("name", ["data", "data.jsonl"])
def test_a_folder_as_data_says_give_a_file(command, name, tmp_path, capsys):
    (tmp_path / name).mkdir()
    argv = command.format(folder=tmp_path / name, out=tmp_path / "out").split()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "is a folder: give a file" in err, err


@pytest.mark.parametrize("command", ["data check {data} --model {model} --seq-len 64",
                                     "tune --model {model} --data {data} --seq-len 64 --output {out}",
                                     "compare --model {model} --data {data} --seq-len 64 --output {out}"])
def test_data_whose_prompts_fill_seq_len_is_refused_before_any_model_loads(command, tmp_path, tiny_model_dir,
                                                                           capsys):
    # trl would drop every row (no answer token survives the cut) and training would die on 0 samples.
    import json

    data = tmp_path / "long.jsonl"
    data.write_text("".join(json.dumps({"question": "word " * 30 + f"{i}?", "answer": "yes"}) + "\n"
                            for i in range(4)))
    argv = command.format(data=data, model=tiny_model_dir, out=tmp_path / "out").split()
    assert main(argv) == 2
    err = capsys.readouterr().err
    if argv[0] != "data":  # data check prints the report on stdout and a summary on stderr
        assert len(err.splitlines()) == 1, err
        assert "lines 1, 2, 3, 4: the prompt alone is " in err and "tokens, which fills --seq-len 64" in err
        assert "--seq-len must be at least" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["data check {path}", "tune --model m --data {path} --output {out}",
                                     "compare --model m --data {path} --output {out}",
                                     "rag index --docs {path} --store {out}"])
@pytest.mark.parametrize("path", ["/tmp/{long_name}.jsonl", "/tmp/bad\x00name.jsonl", "/tmp/" + "a/" * 3000])
def test_a_nul_byte_or_an_overlong_path_is_one_short_line(command, path, tmp_path, capsys):
    path = path.format(long_name="n" * 300)
    argv = [part.format(path=path, out=tmp_path / "out") for part in command.split()]
    assert main(argv) == 2
    err = capsys.readouterr().err
    field = "docs" if argv[0] == "rag" else "data"
    assert len(err.splitlines()) == 1 and len(err) < 300 and f"error: {field}: " in err, err
    assert not (tmp_path / "out").exists()


def test_a_file_name_cannot_forge_an_output_line(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text("# Notes\n\nRefunds take 14 days.\n")
    (docs / "x.png\nftadvisor: all 99 files indexed, 0 skipped.bin").write_bytes(b"\x89PNG")
    assert main(["rag", "index", "--docs", str(docs), "--store", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith(f"skipped {docs}/x.png\\nftadvisor: all 99 files indexed"), out
