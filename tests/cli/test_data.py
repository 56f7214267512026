"""`ftadvisor data check`: the report on stdout, exit 0 for a good dataset and 2 for a bad one."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli.main import main

REPO = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_good_dataset_exits_0_with_the_report(tmp_path, capsys):
    rows = ['{"question": "q1", "answer": "a"}', '{"question": "q2", "answer": "b"}']
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    assert main(["data", "check", path, "--no-near-dup"]) == 0
    out = capsys.readouterr().out
    assert "OK: ready to train" in out and "shape: question_answer" in out


def test_bad_dataset_exits_2_naming_file_line_and_field(tmp_path, capsys):
    rows = ['{"prompt": "p", "completion": "c"}', '{"prompt": "p"', '{"prompt": "p"}']
    path = write_jsonl(tmp_path / "data.jsonl", rows)
    assert main(["data", "check", path, "--no-near-dup", "--json"]) == 2
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [(p["line"], p["field"]) for p in report["problems"]] == [(2, None), (3, "completion")]
    assert report["problems"][0]["message"].startswith("invalid JSON (Expecting ',' delimiter")
    assert "data.jsonl: 2 problem(s) block training" in captured.err


def test_mapping_flags_and_user_errors(tmp_path, capsys):
    path = tmp_path / "sql.csv"
    path.write_text("question,query\nHow many?,SELECT 1;\n")
    assert main(["data", "check", str(path), "--no-near-dup", "--prompt-field", "question",
                 "--completion-field", "query"]) == 0
    assert main(["data", "check", str(path), "--no-near-dup", "--prompt-field", "question"]) == 2
    assert "no column 'completion' in the file (columns found: question, query)" in capsys.readouterr().out
    assert main(["data", "check", str(tmp_path / "x.txt")]) == 2
    assert "unsupported file type '.txt'" in capsys.readouterr().err
    assert main(["data", "check", str(path), "--seq-len", "0"]) == 2
    assert "max_seq_len must be at least 1, got 0" in capsys.readouterr().err


def test_the_installed_command_runs(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", ['{"foo": 1}'])
    proc = subprocess.run([sys.executable, "-m", "cli", "data", "check", path, "--no-near-dup"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "no recognised shape: columns found: foo" in proc.stdout


DEEP = "invalid JSON (nested too deeply: more levels than Python's JSON reader takes, about 1,000)"


def test_a_deeply_nested_json_line_is_a_problem_on_its_line(tmp_path, capsys):
    deep = "[" * 100_000 + "]" * 100_000
    rows = ['{"prompt": "p1", "completion": "c"}', '{"prompt": ' + deep + ', "completion": "c"}',
            '{"prompt": "p3", "completion": "c", "meta": ' + "[" * 900 + "]" * 900 + "}",  # deep, still readable
            '{"prompt": "p4", "completion": "c"}']
    path = write_jsonl(tmp_path / "deep.jsonl", rows)
    assert main(["data", "check", path, "--no-near-dup", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["valid"] == 3
    assert [(p["line"], p["message"]) for p in report["problems"]] == [(2, DEEP)]


def test_a_deeply_nested_json_file_or_csv_cell_is_one_problem(tmp_path, capsys):
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["data", "check", str(tmp_path / "deep.json"), "--no-near-dup", "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert [p["message"] for p in report["problems"]] == [DEEP]
    cell = '"[' + "[" * 100_000 + "]" * 100_000 + ']"'
    (tmp_path / "chat.csv").write_text(f"messages\n{cell}\n")
    assert main(["data", "check", str(tmp_path / "chat.csv"), "--messages-field", "messages", "--no-near-dup",
                 "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert [(p["line"], p["field"], p["message"]) for p in report["problems"]] == [
        (2, "messages", f"field 'messages': {DEEP}")
    ]
