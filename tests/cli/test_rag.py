"""`ftadvisor rag index|search|ask|stats` in-process (the subprocess case is in tests/rag_baseline/test_index.py)."""
from __future__ import annotations

import json
from pathlib import Path

from cli.main import main


def test_index_search_ask_stats(tmp_path, docs, tiny_model_dir, capsys):
    store = str(tmp_path / "store")
    assert main(["rag", "index", "--docs", str(docs), "--store", store, "--chunk-size", "400"]) == 0
    assert "3 file(s) indexed" in capsys.readouterr().out
    queries = tmp_path / "q.txt"
    queries.write_text("How long does a refund take?\n\nWhich countries do you ship to?\n")
    assert main(["rag", "search", "--queries-file", str(queries), "--store", store, "--k", "2", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["question"] for e in entries] == ["How long does a refund take?", "Which countries do you ship to?"]
    assert [Path(e["hits"][0]["source"]).name for e in entries] == ["refunds.md", "shipping.txt"]
    assert all({"source", "score", "text"} <= set(h) for e in entries for h in e["hits"])
    assert main(["rag", "ask", "How long does a refund take?", "--store", store, "--model", str(tiny_model_dir),
                 "--max-new-tokens", "4", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["covered"] and Path(result["hits"][0]["source"]).name == "refunds.md"
    for engine in ("transformers", "openvino"):  # the default is auto: OpenVINO here, on a CPU
        assert main(["rag", "ask", "How long does a refund take?", "--store", store, "--model", str(tiny_model_dir),
                     "--max-new-tokens", "4", "--json", "--engine", engine]) == 0
        assert json.loads(capsys.readouterr().out)["answer"] == result["answer"], engine
    assert main(["rag", "stats", "--store", store]) == 0
    assert "from 3 file(s)" in capsys.readouterr().out


def test_user_errors_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["rag", "index", "--docs", str(tmp_path / "empty"), "--store", str(tmp_path / "s")]) == 2
    assert "the folder is empty" in capsys.readouterr().err
    (tmp_path / "notastore").mkdir()
    (tmp_path / "notastore" / "x.txt").write_text("x")
    assert main(["rag", "stats", "--store", str(tmp_path / "notastore")]) == 2
    assert "is not a Chroma store" in capsys.readouterr().err
    assert main(["rag", "search", "q", "--url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the Chroma server" in capsys.readouterr().err
    assert main(["rag", "search", "--store", str(tmp_path / "s")]) == 2
    assert "give one question" in capsys.readouterr().err


def test_the_package_and_command_import_no_heavy_library():
    import subprocess
    import sys

    code = ("import sys, rag_baseline, rag_baseline.index, rag_baseline.retrieve, rag_baseline.answer, cli.rag; "
            "print(sorted({'torch', 'transformers', 'chromadb', 'sentence_transformers'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]", out.stderr


class _Clock:
    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def __call__(self) -> float:
        return self.times.pop(0)


def test_index_progress_without_a_terminal_is_a_line_every_5_percent_or_10_s():
    import io

    from cli.rag import IndexProgress

    out = io.StringIO()
    progress = IndexProgress(out, clock=_Clock(0, 1, 2, 3, 15, 20))
    for done in (0, 3, 5, 6, 7, 100):  # at 0 s, 1 s, 2 s, 3 s, 15 s, 20 s
        progress(done, 100)
    assert out.getvalue().splitlines() == [
        "embedding 100 new chunks",
        "5/100 chunks (5%), 2.5 chunks/s, about 0:38 left",  # a 5% step
        "7/100 chunks (7%), 0.5 chunks/s, about 3:19 left",  # 10 s since the last line
        "100/100 chunks (100%) in 0:20",
    ]


def test_index_progress_on_a_terminal_is_one_bar_redrawn():
    import io

    from cli.rag import IndexProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    progress = IndexProgress(out, clock=_Clock(0, 1, 2))
    for done in (0, 50, 100):
        progress(done, 100)
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "[##########----------] 50/100 chunks 50%" in text


def test_index_prints_progress_lines_when_stderr_is_not_a_terminal(tmp_path, docs, capsys):
    assert main(["rag", "index", "--docs", str(docs), "--store", str(tmp_path / "store"), "--chunk-size", "400"]) == 0
    lines = capsys.readouterr().err.splitlines()
    total = int(lines[0].split()[1])
    assert lines[0] == f"embedding {total} new chunks" and lines[-1].startswith(f"{total}/{total} chunks (100%) in ")
