"""`ftadvisor advise` and `ftadvisor report`: output, files, and exit 2 naming the field."""
import json

import pytest

from cli.main import main
from tests.advisor.comparison_run import write_comparison_run

HYBRID = {"needs": ["tone_style", "fresh_facts"], "knowledge_update": "daily",
          "labeled_examples": 5000, "prompting_result": "inconsistent",
          "model": "llama-3.1-8b", "gpu": "a100-80gb"}


@pytest.fixture
def answers_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(HYBRID))
    return path


def test_advise_prints_the_recommendation(answers_file, capsys):
    assert main(["advise", "--answers", str(answers_file)]) == 0
    out = capsys.readouterr().out
    assert "Recommendation: LoRA fine-tuning" in out and "lora + rag (sft)" in out
    assert "Why:" in out and "$ ftadvisor tune" in out


def test_advise_json(answers_file, capsys):
    assert main(["advise", "--answers", str(answers_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["primary"], data["combine_with"], data["recipe"]) == ("lora", ["rag"], "sft")
    assert set(data["scores"]) == {"prompting", "rag", "lora", "qlora", "full_finetune"}


@pytest.mark.parametrize("fmt,magic", [("md", b"# ftadvisor report"), ("html", b"<!DOCTYPE html>"),
                                       ("json", b"{"), ("pdf", b"%PDF")])
def test_report_writes_each_format(answers_file, tmp_path, fmt, magic):
    out = tmp_path / f"report.{fmt}"
    assert main(["report", "--answers", str(answers_file), "--format", fmt, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_report_format_from_extension_and_comparison(answers_file, tmp_path):
    run = write_comparison_run(tmp_path / "runs", "20250101-120000-compare")
    out = tmp_path / "r.md"
    assert main(["report", "--answers", str(answers_file), "-o", str(out), "--comparison", str(run)]) == 0
    md = out.read_text()
    assert "## Comparison results" in md and "ranks first on execution accuracy" in md
    assert "| Fine-tuned + RAG (hybrid) | 1.000 |" in md


def test_report_with_a_broken_comparison_exits_2_in_one_line(answers_file, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps({"arms": {"rag": {"token_f1": 0.4}}}))
    assert main(["report", "--answers", str(answers_file), "-o", str(tmp_path / "r.md"), "--comparison", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ftadvisor report: error: --comparison: not a comparison's results: run_dir: Field required")
    assert "\n" not in err and not (tmp_path / "r.md").exists()


@pytest.mark.parametrize("content,needle", [
    ({"labeled_examples": -3}, "labeled_examples: Input should be greater than or equal to 0"),
    ({"gpu": "A100 90GB"}, "gpu: unknown GPU 'A100 90GB'; close names: A100 40GB, A100 80GB"),
    ({"model": "no-such-model-xyz"}, "model:"),
    ({"needs": ["mind_reading"]}, "needs.0:"),
    ({"preference_pairs": "many"}, "preference_pairs:"),
])
def test_invalid_answers_exit_2_naming_the_field(tmp_path, capsys, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    assert main(["advise", "--answers", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ftadvisor advise: error: ") and needle in err


def test_malformed_json_exits_2_with_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "gpu": "T4",\n  "labeled_examples": 10,,\n}')
    assert main(["report", "--answers", str(path), "-o", str(tmp_path / "x.md")]) == 2
    err = capsys.readouterr().err
    assert "malformed JSON at line 3, column 26" in err
    assert not (tmp_path / "x.md").exists()


def test_missing_answers_file(tmp_path, capsys):
    assert main(["advise", "--answers", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_answers_from_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"needs": ["private_knowledge"]})))
    assert main(["advise", "--answers", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["primary"] == "rag"


def test_advise_shows_readable_sources_and_no_seed_file(answers_file, capsys):
    import re

    assert main(["advise", "--answers", str(answers_file)]) == 0
    out = capsys.readouterr().out
    assert "Sources:" in out and "Fine-Tuning (GEO & AI-search glossary entry)" in out
    assert "source: Fine-Tuning (GEO & AI-search glossary entry)" in out  # on each reason too
    assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt|seeds/", out)


def test_advise_json_keeps_its_keys_and_adds_the_new_ones(answers_file, capsys):
    assert main(["advise", "--answers", str(answers_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"headline", "primary", "combine_with", "recipe", "scores", "reasons", "warnings",
            "what_would_change_it", "next_steps", "finetune", "serving", "assumptions", "sources"} <= set(data)
    assert {"then_dpo", "distill", "ruled_out"} <= set(data)
    assert {"source", "claim", "source_title", "rules_out"} <= set(data["reasons"][0])
    assert {"file", "claims", "title", "where"} <= set(data["sources"][0])
    assert data["finetune"]["sharding"] == data["finetune"]["fit"]["sharding"] == "none"
