"""Validation beyond single records: duplicates and near-duplicates (real embeddings), the seeded
leak-free split, lengths with a real tokenizer, the report, and the real sql-eval dataset."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tuning.data import DatasetReport, Example, FieldMapping, prepare_dataset, split_examples, validate_dataset

REPO = Path(__file__).resolve().parents[2]
SQL_MAPPING = FieldMapping(prompt_field="question", completion_field="query")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def pc(i: int, text: str | None = None) -> Example:
    return Example(prompt=text or f"question {i}", completion=f"answer {i}" if text is None else "same", source_line=i)


def test_duplicates_and_near_duplicates_are_found_and_kept_on_one_side(tmp_path):
    rows = [
        {"prompt": "How many customers signed up in 2024?", "completion": "SELECT COUNT(*) FROM customers;"},
        {"prompt": "How many customers signed up during 2024?", "completion": "SELECT COUNT(*) FROM customers;"},
        {"prompt": "List the ten most expensive products.", "completion": "SELECT name FROM products LIMIT 10;"},
        {"prompt": "How many customers signed up in 2024?", "completion": "SELECT COUNT(*) FROM customers;"},
        {"prompt": "What is the capital of France?", "completion": "Paris."},
        {"prompt": "Translate 'cat' into German.", "completion": "Katze."},
    ]
    prepared = prepare_dataset(write_jsonl(tmp_path / "d.jsonl", rows), eval_fraction=0.5, seed=3)
    report = prepared.report
    assert report.ok and report.exact_duplicates == [[1, 4]]
    assert report.near_dup_checked and report.near_duplicates_total == 1  # the exact copy is not counted twice
    pair = report.near_duplicates[0]
    assert (pair.line_a, pair.line_b) == (1, 2) and pair.cosine >= 0.9
    eval_lines = {ex.source_line for ex in prepared.eval}
    assert {1, 2, 4} <= eval_lines or not {1, 2, 4} & eval_lines  # the whole group on one side
    assert sorted(eval_lines) == report.eval_lines and report.counts.eval == len(eval_lines)


def test_split_is_seeded_sized_and_leak_free():
    examples = [pc(i) for i in range(1, 61)]
    examples += [pc(100 + i, "dup A") for i in range(4)] + [pc(200 + i, "dup B") for i in range(3)]
    groups = [[1, 2, 3], [10, 40]]
    first = split_examples(examples, 0.2, seed=7, groups=groups)
    assert first == split_examples(examples, 0.2, seed=7, groups=groups)  # seeded
    assert first != split_examples(examples, 0.2, seed=8, groups=groups)
    for seed in range(20):
        train, held = split_examples(examples, 0.2, seed=seed, groups=groups)
        assert len(train) + len(held) == len(examples) and len(held) == round(0.2 * len(examples))
        train_lines = {e.source_line for e in train}
        for group in groups + [[100, 101, 102, 103], [200, 201, 202]]:
            assert len({line in train_lines for line in group}) == 1, (seed, group)
        assert [e.source_line for e in train] == sorted(train_lines)  # file order kept


def test_report_says_when_duplicate_groups_shrink_the_eval_side(tmp_path):
    rows = [{"prompt": "same", "completion": "same"}] * 9 + [{"prompt": "other", "completion": "x"}]
    report = validate_dataset(write_jsonl(tmp_path / "d.jsonl", rows), eval_fraction=0.5, near_dup=False)
    assert report.eval_lines == [10] and report.exact_duplicates == [list(range(1, 10))]
    assert "eval holds 1 examples, not 5: duplicate groups are kept whole on one side" in report.notes


def test_length_stats_percentiles_and_histogram():
    from tuning.data.report import length_stats

    stats = length_stats([5, 5, 7, 20], "words", None, bins=4)
    assert (stats.min, stats.p50, stats.p95, stats.max, stats.mean) == (5, 5, 20, 20, 9.25)
    assert [(b.start, b.end, b.count) for b in stats.histogram] == [(5, 8, 3), (9, 12, 0), (13, 16, 0), (17, 20, 1)]


def test_split_edge_cases():
    assert split_examples([pc(1)], 0.1) == ([pc(1)], [])
    train, held = split_examples([pc(1), pc(2), pc(3)], 0.1)  # rounds to 0 but eval is asked for: 1
    assert len(held) == 1 and len(train) == 2
    assert split_examples([pc(1), pc(2)], 0.0) == ([pc(1), pc(2)], [])
    with pytest.raises(ValueError, match=r"eval_fraction must be in \[0, 1\)"):
        split_examples([pc(1)], 1.0)


def test_too_long_examples_are_counted_in_tokens_of_the_model(tmp_path, tiny_model_dir):
    long_answer = "SELECT name FROM users WHERE id = 1; " * 20
    rows = [{"prompt": "short", "completion": "SELECT 1;"}, {"prompt": "long", "completion": long_answer}]
    report = validate_dataset(write_jsonl(tmp_path / "d.jsonl", rows), tokenizer=str(tiny_model_dir),
                              max_seq_len=32, near_dup=False)
    assert report.lengths.unit == "tokens" and report.lengths.max > 32
    assert report.too_long.count == 1 and report.too_long.lines == [2]
    assert report.too_long.tokens_cut == report.lengths.max - 32
    assert report.ok and report.counts.unusable == 0  # the answer's start survives: cut, still trained on


def test_examples_whose_prompt_alone_fills_seq_len_are_unusable(tmp_path):
    # trl keeps the start of a sequence and drops rows left with no loss token: these would be
    # dropped, and a dataset of only these used to pass the check and die after the model loaded.
    long_prompt = "word " * 600
    rows = [{"prompt": long_prompt, "completion": "answer " * 10}, {"prompt": "word " * 540, "completion": "a"},
            {"prompt": long_prompt, "completion": "answer"}]
    report = validate_dataset(write_jsonl(tmp_path / "d.jsonl", rows), max_seq_len=512, near_dup=False)
    assert not report.ok and report.counts.unusable == 3
    assert report.too_long.unusable_lines == [1, 2, 3] and report.too_long.count == 0
    assert report.error_lines() == [
        "d.jsonl: lines 1, 2, 3: the prompt alone is 540-600 words, which fills --seq-len 512, so no answer "
        "word is left to train on; --seq-len must be at least 610 to train on them (counted in words: a "
        "tokenizer gives more; give --model to count tokens)"
    ]
    assert "unusable" in report.to_markdown()


def test_some_unusable_examples_are_reported_and_kept_out_of_the_split(tmp_path):
    rows = [{"prompt": f"question {i}", "completion": f"answer {i}"} for i in range(9)]
    rows.insert(4, {"prompt": "word " * 40, "completion": "a b"})
    report = validate_dataset(write_jsonl(tmp_path / "d.jsonl", rows), max_seq_len=16, eval_fraction=0.5,
                              near_dup=False)
    assert report.ok and report.counts.unusable == 1 and report.too_long.unusable_lines == [5]
    assert 5 not in report.eval_lines and report.counts.train + report.counts.eval == 9
    assert ("line 5: the prompt alone is 40 words, which fills --seq-len 16, so no answer word is left to train "
            "on; --seq-len must be at least 42 to train on it; training drops it (9 of 10 examples remain)") in \
        " ".join(report.notes)


def test_report_round_trips_through_json_and_renders(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"prompt": f"p{i}", "completion": "c"} for i in range(10)] + [{"x": 1}])
    report = validate_dataset(path, near_dup=False)
    assert not report.ok and report.counts.model_dump() == {"total": 11, "valid": 10, "invalid": 1, "unusable": 0,
                                                            "train": 9, "eval": 1}
    saved = report.write(tmp_path / "run")
    assert saved.name == "dataset_report.json" and (tmp_path / "run" / "dataset_report.md").exists()
    assert DatasetReport.model_validate_json(saved.read_text()) == report
    md = report.to_markdown()
    assert "NOT OK" in md and "d.jsonl line 11: missing field 'prompt'" in md and "whitespace words" in md
    with pytest.raises(ValueError, match="line 11") as exc:
        report.raise_for_problems()
    assert (exc.value.file, exc.value.line, exc.value.field) == ("d.jsonl", 11, "prompt")


def test_real_sql_eval_csv_loads_with_a_mapping_and_validates(tiny_model_dir, sql_eval):
    csv_path = sql_eval / "questions_gen_postgres.csv"
    unmapped = validate_dataset(csv_path, near_dup=False)
    assert not unmapped.ok and "columns found: question, query, db_name" in unmapped.problems[0].message
    report = validate_dataset(csv_path, SQL_MAPPING, tokenizer=str(tiny_model_dir), max_seq_len=128, near_dup=False)
    assert report.ok, report.error_lines()
    # the tiny model's tokenizer is nearly character-level: one question alone is 128 tokens or more
    assert report.counts.valid == 210 and report.counts.unusable == 1
    assert (report.counts.train, report.counts.eval) == (188, 21)
    assert report.too_long.count > 0 and report.lengths.unit == "tokens"
    templ = FieldMapping(prompt_template="{question}\n-- database: {db_name}", completion_field="query")
    prepared = prepare_dataset(csv_path, templ, near_dup=False)
    assert prepared.report.ok and prepared.train[0].prompt.endswith("-- database: academic")


@pytest.mark.parametrize("distinct, notice", [
    (200, None),
    (2_000, "near-duplicate check: 2,000 distinct examples, about 3 min at ~12 examples/s on 2 CPU cores "
            "(switch the near-duplicate check off to skip it)"),
    (1_000_000, "near-duplicates not checked: 1,000,000 distinct examples would take about 27.8 h at ~12 "
                "examples/s on 2 CPU cores (the check stops at 20,000); exact duplicates were checked"),
])
def test_a_long_near_duplicate_check_is_announced_with_its_expected_time(distinct, notice):
    from tuning.data.dedup import near_dup_notice

    assert near_dup_notice(distinct) == notice


def test_too_many_examples_skip_the_near_duplicate_check_and_say_so(tmp_path):
    # In a child Python: the skipped check must not even load the embedding model (torch).
    path = write_jsonl(tmp_path / "big.jsonl", [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(20_001)])
    code = ("import sys; from tuning.data import validate_dataset; heard = []; "
            f"r = validate_dataset({str(path)!r}, on_notice=heard.append); "
            "print(r.near_dup_checked, 'torch' in sys.modules, heard == r.notes[-1:], r.notes[-1])")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("False False True near-duplicates not checked: 20,001 distinct examples would "
                                  "take about 28 min"), done.stdout
