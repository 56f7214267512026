"""`ftadvisor tune`, `ftadvisor runs ...` and `ftadvisor tiny-model` as a user types them."""
import json
import shutil

import pytest

from cli.main import main


def test_an_invalid_dataset_exits_2_before_any_model_is_loaded(tiny_model_dir, tmp_path, capsys, monkeypatch):
    import lm.loading

    def no_model(*args, **kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(lm.loading, "load_model", no_model)
    data = tmp_path / "data.jsonl"
    data.write_text('{"prompt": "p", "completion": "c"}\n{"prompt": "p", "completion": 7}\n{oops\n')
    rc = main(["tune", "--model", str(tiny_model_dir), "--data", str(data), "--no-near-dup",
               "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "data.jsonl line 2" in err and "completion" in err  # file, line, field
    assert "data.jsonl line 3: invalid JSON" in err
    assert not (tmp_path / "run").exists()  # no run folder, no worker


@pytest.mark.slow
def test_the_readme_tune_command_with_a_relative_folder_trains(tiny_model_dir, sft_data, tmp_path, monkeypatch):
    """Failed before: the worker got './tiny-model' and took it for a hub id (OSError: Repo id ...)."""
    shutil.copytree(tiny_model_dir, tmp_path / "tiny-model")
    monkeypatch.chdir(tmp_path)
    rc = main(["tune", "--model", "./tiny-model", "--data", str(sft_data), "--max-steps", "2", "--no-near-dup",
               "--output", "run"])
    assert rc == 0, (tmp_path / "run" / "log.txt").read_text()[-2000:]


def test_a_bad_flag_value_exits_2_naming_the_field(tmp_path, capsys):
    rc = main(["tune", "--model", "m", "--data", "d.jsonl", "--rank", "0", "--output", str(tmp_path / "r")])
    assert rc == 2 and "lora_rank" in capsys.readouterr().err


@pytest.mark.slow
def test_runs_list_show_and_merge(trained_run, capsys, monkeypatch):
    assert main(["runs", "list", "--root", str(trained_run.parent)]) == 0
    out = capsys.readouterr().out
    assert "lora" in out and "completed" in out and "24/24" in out
    assert main(["runs", "show", str(trained_run)]) == 0
    out = capsys.readouterr().out
    assert "state completed" in out and "loss     first" in out and "memory   measured" in out
    assert main(["runs", "show", str(trained_run), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"]["state"] == "completed" and shown["spec"]["method"] == "lora"
    monkeypatch.setenv("FTADVISOR_HOME", str(trained_run.parent.parent))  # runs root = trained_run.parent
    monkeypatch.chdir(trained_run.parent.parent)
    out_dir = trained_run.parent / "merged-by-cli"
    assert main(["runs", "merge", str(trained_run), "--output", str(out_dir)]) == 0
    assert (out_dir / "model.safetensors").exists()


def test_runs_on_a_missing_folder_say_so(tmp_path, capsys):
    assert main(["runs", "show", str(tmp_path / "nope")]) == 2
    assert "no run" in capsys.readouterr().err


def test_tiny_model_builds_a_loadable_model(tmp_path, capsys):
    assert main(["tiny-model", "--output", str(tmp_path / "tiny")]) == 0
    assert (tmp_path / "tiny" / "config.json").exists() and (tmp_path / "tiny" / "tokenizer.json").exists()
