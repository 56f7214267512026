"""`ftadvisor compare`: flags become the spec; what the user can fix exits 2 before any run
folder exists or any model loads."""
from __future__ import annotations

import json

import pytest

from cli.main import build_parser, main


def _args(*extra):
    return build_parser().parse_args(["compare", *extra])


def test_flags_become_the_spec(qa_file, tmp_path):
    from cli.compare import spec_from_args

    spec = spec_from_args(_args(
        "--data", str(qa_file), "--prompt-field", "question", "--completion-field", "answer",
        "--docs", str(tmp_path), "--model", "some/model", "--method", "lora", "--max-steps", "7", "--rank", "8",
        "--dropout", "0", "--eval-count", "5", "--k", "4", "--max-new-tokens", "12", "--sample", "--arms", "rag,base",
        "--gpu", "H100 SXM", "--engine", "openvino", "--output", str(tmp_path / "run"),
    ))
    assert spec.mapping.prompt_field == "question" and spec.mapping.completion_field == "answer"
    assert spec.docs == [tmp_path.resolve()] and spec.arms == ["base", "rag"]
    assert (spec.finetune.method, spec.finetune.max_steps, spec.finetune.lora_rank, spec.finetune.lora_alpha) == (
        "lora",
        7,
        8,
        16,
    )
    assert (spec.eval_count, spec.rag.k, spec.generation.max_new_tokens, spec.generation.greedy) == (5, 4, 12, False)
    assert spec.gpu == "H100 SXM" and spec.output == (tmp_path / "run").resolve()
    assert spec.finetune.lora_dropout == 0
    assert spec.generation.engine == "openvino"


def test_defaults_follow_the_spec(qa_file, tmp_path):
    from cli.compare import spec_from_args

    spec = spec_from_args(_args("--data", str(qa_file), "--model", "m", "--output", str(tmp_path / "r")))
    assert spec.finetune.method == "auto" and spec.arms == ["base", "fewshot", "rag", "finetuned", "finetuned_rag"]
    assert spec.generation.greedy and spec.generation.engine == "auto" and spec.docs == []
    from tuning.spec import JobSpec

    # The comparison's adapters train as `ftadvisor tune` trains: the same LoRA dropout.
    assert spec.finetune.lora_dropout == JobSpec.model_fields["lora_dropout"].default == 0.05


@pytest.mark.parametrize("problem, extra, expected", [
    ("bad line", [], "line 2"),
    ("unknown gpu", ["--gpu", "A100 81GB"], "close names"),
    ("missing relevant column", ["--relevant-field", "db_name"], "no column 'db_name'"),
    ("unknown arm", ["--arms", "base,magic"], "arms.1"),
    ("missing docs", ["--docs", "/nonexistent/docs"], "no such file or folder"),
])
def test_user_errors_exit_2_before_any_run(problem, extra, expected, qa_file, tmp_path, capsys):
    if problem == "bad line":
        lines = qa_file.read_text().splitlines()
        lines[1] = '{"question": "broken"'
        qa_file.write_text("\n".join(lines) + "\n")
    output, model = tmp_path / "run", tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")  # checked for existence only: nothing is loaded
    code = main(["compare", "--data", str(qa_file), "--model", str(model), "--output", str(output), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err and err.startswith("ftadvisor compare: error:")
    assert not output.exists()


def test_a_model_folder_without_config_is_refused(qa_file, tmp_path, capsys):
    (tmp_path / "empty-model").mkdir()
    code = main(["compare", "--data", str(qa_file), "--model", str(tmp_path / "empty-model"),
                 "--output", str(tmp_path / "run")])
    assert code == 2 and "has no config.json" in capsys.readouterr().err


def test_the_dataset_rows_are_read_with_the_mapping(tmp_path, capsys):
    data = tmp_path / "sql.csv"
    data.write_text("question,query\nhow many users?,SELECT COUNT(*) FROM users;\nnames?,SELECT name FROM users;\n")
    (tmp_path / "config.json").write_text(json.dumps({}))  # a model folder: checked for config.json only
    code = main(["compare", "--data", str(data), "--model", str(tmp_path), "--output", str(tmp_path / "run")])
    assert code == 2 and "no recognised shape" in capsys.readouterr().err  # needs --prompt-field/--completion-field
    from cli.compare import spec_from_args
    from compare.launch import preflight

    spec = spec_from_args(_args("--data", str(data), "--prompt-field", "question", "--completion-field", "query",
                                "--model", str(tmp_path), "--output", str(tmp_path / "run")))
    assert preflight(spec) == 2


@pytest.mark.parametrize(
    "name, source, function, expected",
    [
        (
            "scores.py",
            "def grade(q, a, r, row):\n    return 1 if a == r else 0 +\n",
            "grade",
            "scores.py line 2: syntax error",
        ),
        ("scores.py", "def other(q, a, r, row):\n    return 1\n", "grade", "scores.py has no function 'grade'"),
        ("scores.py", "GRADE = 1\n", "GRADE", "scores.py has no function 'GRADE'"),
        ("scores.txt", "def grade(q, a, r, row):\n    return 1\n", "grade", "scores.txt is not a .py file"),
        ("scores.py", "import no_such_module_xyz\n", "grade", "cannot import scores.py: ModuleNotFoundError"),
        ("scores.py", "raise SystemExit(0)\n", "grade", "scores.py exited while being imported"),
    ],
)
def test_a_broken_scorer_file_exits_2_before_any_run(name, source, function, expected, qa_file, tmp_path, capsys):
    scorer = tmp_path / name
    scorer.write_text(source)
    output, model = tmp_path / "run", tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    code = main(["compare", "--data", str(qa_file), "--model", str(model), "--output", str(output),
                 "--scorer", f"python:{scorer}:{function}"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("ftadvisor compare: error:") and expected in err, err
    assert not output.exists()


def _model(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")  # checked for existence only: nothing is loaded
    return model


def test_a_hostile_dump_among_the_documents_exits_2_and_runs_nothing(qa_file, tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "evil.sql").write_text(f"\\! id > {tmp_path}/owned.txt\n"
                                   f"COPY (SELECT current_user) TO PROGRAM 'id > {tmp_path}/owned2.txt';\n")
    output = tmp_path / "run"
    code = main(["compare", "--data", str(qa_file), "--model", str(_model(tmp_path)), "--docs", str(docs),
                 "--arms", "base", "--scorer", "sql-exec", "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("ftadvisor compare: error: sql_dumps: evil.sql line 1: refused: `\\!` is a psql meta-command, not "
                   "SQL (a dump is loaded as plain SQL: nothing in it runs outside the database)\n")
    assert not output.exists() and not (tmp_path / "owned.txt").exists() and not (tmp_path / "owned2.txt").exists()


def test_a_password_in_the_sql_url_exits_2_without_echoing_it(qa_file, tmp_path, capsys):
    output = tmp_path / "run"
    code = main(["compare", "--data", str(qa_file), "--model", str(_model(tmp_path)), "--arms", "base",
                 "--scorer", "sql-exec", "--sql-url", "postgresql://reader:s3cret@db.example/{db}",
                 "--sql-db-field", "doc", "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "holds a password" in err and "PGPASSWORD" in err
    assert "s3cret" not in err and not output.exists()


def test_the_help_says_whose_rights_sql_url_queries_run_with(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Queries run with that role's rights" in out and "--sql-allow-superuser" in out
    assert "No password in the URL" in out and "--sql-deadline" in out and "--sql-answer-deadline" in out
