"""`ftadvisor runs ...` on runs that went wrong: a damaged status named and listed, the log tail
by count (0: none, negative refused), a refused resume in one line."""
import pytest

import runs
from cli.main import main
from tests.runs.fake_worker import FakeSpec


@pytest.fixture
def run_dir(tmp_path):
    run_dir = runs.create_run(FakeSpec(output=str(tmp_path / "runs" / "r1"), mode="x"))
    (run_dir / runs.LOG_FILE).write_text("".join(f"log line {i}\n" for i in range(1, 21)))
    return run_dir


def test_runs_list_shows_a_damaged_run_and_names_its_file(run_dir, capsys):
    (run_dir / runs.STATUS_FILE).write_text('{"kind": "fake", "sta')
    assert main(["runs", "list", "--root", str(run_dir.parent)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:3] == ["r1", "fake", "damaged"]
    assert out[2].startswith(f"damaged: {run_dir / runs.STATUS_FILE} is damaged")
    assert main(["runs", "show", str(run_dir)]) == 2
    assert capsys.readouterr().err.startswith(f"ftadvisor runs: error: {run_dir / runs.STATUS_FILE} is damaged")


@pytest.mark.parametrize("count, shown", [("3", ["log line 18", "log line 19", "log line 20"]), ("0", [])])
def test_runs_show_prints_the_log_lines_asked_for(run_dir, capsys, count, shown):
    assert main(["runs", "show", str(run_dir), "--log-lines", count]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("log line")] == shown
    assert ("log (last lines):" in out) == bool(shown)


def test_a_negative_log_line_count_is_refused(run_dir, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["runs", "show", str(run_dir), "--log-lines", "-1"])
    assert exited.value.code == 2
    assert "--log-lines: must be 0 or more (0 shows no log), got -1" in capsys.readouterr().err


def test_resuming_a_running_run_is_refused_in_one_line(run_dir, capsys):
    with runs.worker_lock(run_dir):
        runs.update_status(run_dir, state="running")
        assert main(["runs", "resume", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ftadvisor runs: error: {run_dir} still has a worker (pid ") and err.count("\n") == 1


@pytest.mark.parametrize("detail, line", [
    ({"resumed_from": "checkpoint-20", "resumed_step": 20}, "resumed  from checkpoint-20"),
    ({"resumed_from": None, "resumed_step": 0}, "resumed  from step 0 (no complete checkpoint was left)"),
])
def test_runs_show_says_where_a_resumed_run_continued(run_dir, capsys, detail, line):
    runs.merge_detail(run_dir, **detail)
    assert main(["runs", "show", str(run_dir)]) == 0
    assert line in capsys.readouterr().out.splitlines()


def test_a_run_named_with_a_newline_is_listed_on_one_line(tmp_path, capsys):
    runs.create_run(FakeSpec(output=str(tmp_path / "runs" / "r2\nr3  fake  completed"), mode="x"))
    assert main(["runs", "list", "--root", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[1].startswith("r2\\nr3  fake  completed  fake  queued"), out


def test_a_launch_into_a_read_only_folder_is_one_line(small_disk, capsys):
    from tests.conftest import make_read_only

    make_read_only(small_disk)
    try:
        runs.launch(FakeSpec(output=str(small_disk / "r"), mode="x"))
    except runs.RunsError as exc:
        assert str(exc) == (f"cannot write {small_disk / 'r'}: Read-only file system: choose an output folder on a "
                            "disk that can be written")
    else:
        raise AssertionError("the launch did not fail")
