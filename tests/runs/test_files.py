"""Run files a kill cannot corrupt: atomic whole-file writes, JSONL appends that repair a line
cut short, tolerant reads, and the log tail."""
import json

import runs


def test_write_atomic_makes_the_folder_and_leaves_no_temporary_file(tmp_path):
    path = runs.write_atomic(tmp_path / "answers" / "base.jsonl", "{}\n")
    assert path.read_text() == "{}\n" and [p.name for p in path.parent.iterdir()] == ["base.jsonl"]


def test_an_append_after_a_line_cut_short_starts_a_line_of_its_own(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2, "lo')  # a kill in the middle of a write
    runs.append_jsonl(path, {"step": 2, "loss": 1.5})
    assert path.read_text() == '{"step": 1}\n{"step": 2, "loss": 1.5}\n'
    path.write_text('{"step": 1')  # nothing whole at all
    runs.append_jsonl(path, {"step": 1})
    assert path.read_text() == '{"step": 1}\n'


def test_read_jsonl_keeps_the_records_after_a_garbled_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": 1}\n{"id": 2, "ans{"id": 2}\n{"id": 3}\n[4]\n')
    assert runs.read_jsonl(path) == [{"id": 1}, {"id": 3}]
    assert runs.read_jsonl(tmp_path / "none.jsonl") == []


def test_keep_jsonl_drops_what_it_is_told_and_says_how_many(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps({"step": s}) + "\n" for s in (1, 2, 3, 4)))
    assert runs.keep_jsonl(path, lambda row: row["step"] <= 2) == 2
    assert runs.read_jsonl(path) == [{"step": 1}, {"step": 2}]
    assert runs.keep_jsonl(tmp_path / "none.jsonl", lambda row: False) == 0
    assert not (tmp_path / "none.jsonl").exists()


def test_the_log_tail_shows_the_lines_asked_for_and_none_for_zero(tmp_path):
    (tmp_path / runs.LOG_FILE).write_text("".join(f"line {i}\n" for i in range(1, 31)))
    assert runs.tail_log(tmp_path, 2) == "line 29\nline 30"
    assert runs.tail_log(tmp_path, 0) == ""
    assert runs.tail_log(tmp_path / "elsewhere", 5) == ""


def test_a_write_that_does_not_fit_is_one_line_and_leaves_no_temporary_file(small_disk):
    from tests.conftest import fill_disk

    (small_disk / "r").mkdir()
    fill_disk(small_disk)
    try:
        runs.write_atomic(small_disk / "r" / "results.json", "x" * 100_000)
    except runs.RunsError as exc:
        assert str(exc) == (f"cannot write {small_disk / 'r' / 'results.json'}: No space left on device: free space "
                            "on that disk (or choose another output folder)")
    else:
        raise AssertionError("the write did not fail")
    assert list((small_disk / "r").iterdir()) == []
