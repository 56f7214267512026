"""Scoring checked at launch (`compare.launch.preflight` -> `validate_scoring`): a dump that would
be refused, a server that does not answer or a role that may do more than read, a missing
database column: one line before any run folder exists, and nothing in the dump ran."""
from __future__ import annotations

import json

import pytest

from compare.launch import preflight
from compare.scoring.errors import ScoringError
from compare.scoring.postgres import SUPERUSER
from compare.spec import CompareSpec
from tests.compare.scoring.conftest import write_toy_dump


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "qa.jsonl"
    rows = [{"question": f"q{i}", "query": "SELECT 1", "db": "toy"} for i in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _spec(data, model, tmp_path, **scoring) -> CompareSpec:
    return CompareSpec(data=data, mapping={"prompt_field": "question", "completion_field": "query"}, model=str(model),
                       arms=["base"], docs=scoring.pop("docs", []), scoring={"names": "sql-exec", **scoring},
                       output=tmp_path / "run")


def test_a_hostile_dump_is_refused_at_launch_and_runs_nothing(data, tiny_model_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_toy_dump(docs)
    (docs / "evil.sql").write_text(f"CREATE TABLE public.t (x int);\n\\! id > {tmp_path}/owned.txt\n")
    spec = _spec(data, tiny_model_dir, tmp_path, docs=[docs], sql_db_field="db")
    with pytest.raises(ScoringError, match=r"^sql_dumps: evil\.sql line 2: refused: `\\!` is a psql meta-command"):
        preflight(spec)
    assert not (tmp_path / "owned.txt").exists() and not (tmp_path / "run").exists()


def test_an_unreachable_sql_url_is_refused_at_launch(data, tiny_model_dir, tmp_path):
    spec = _spec(data, tiny_model_dir, tmp_path, sql_url=f"postgresql://reader@/{{db}}?host={tmp_path}",
                 sql_db_field="db")
    with pytest.raises(ScoringError, match=r"^sql_url: cannot connect to database 'toy': .*No such file"):
        preflight(spec)


def test_a_superuser_sql_url_is_refused_at_launch_unless_allowed(pg, data, tiny_model_dir, tmp_path):
    spec = _spec(data, tiny_model_dir, tmp_path, sql_url=pg.url_template(SUPERUSER), sql_db_field="db")
    with pytest.raises(ScoringError, match=r"^sql_url: role 'postgres' may do more than read \(superuser\)"):
        preflight(spec)
    allowed = _spec(data, tiny_model_dir, tmp_path, sql_url=pg.url_template(SUPERUSER), sql_db_field="db",
                    sql_allow_superuser=True)
    assert preflight(allowed) == 6


def test_a_missing_database_column_is_refused_at_launch(data, tiny_model_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_toy_dump(docs)
    spec = _spec(data, tiny_model_dir, tmp_path, docs=[docs], sql_db_field="database")
    with pytest.raises(ScoringError, match=r"^sql_db_field: no row of qa\.jsonl has a 'database' column "
                                           r"\(columns: db, query, question\)"):
        preflight(spec)


def test_good_scorers_pass(pg, data, tiny_model_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_toy_dump(docs)
    assert preflight(_spec(data, tiny_model_dir, tmp_path, docs=[docs], sql_db_field="db")) == 6
    assert preflight(_spec(data, tiny_model_dir, tmp_path, sql_url=pg.url_template(), sql_db_field="db")) == 6
