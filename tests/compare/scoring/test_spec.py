"""ScorerSpec: what each scorer needs, checked with one line per problem."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from common.errors import describe_error
from compare.scoring.spec import ScorerSpec


def _error(**kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        ScorerSpec(**kwargs)
    lines = describe_error(info.value)
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def dumps(tmp_path):
    folder = tmp_path / "schemas"
    folder.mkdir()
    for name in ("academic", "yelp"):
        (folder / f"{name}.sql").write_text("SELECT 1;\n")
    (folder / "README.md").write_text("not a dump")
    return folder


def test_dump_folders_become_their_sql_files_absolute(dumps, monkeypatch):
    monkeypatch.chdir(dumps.parent)
    spec = ScorerSpec(names="sql-exec", sql_db_field="db_name", sql_dumps=["schemas"])
    assert spec.sql_dumps == [dumps / "academic.sql", dumps / "yelp.sql"]
    assert spec.embedded_database
    assert ScorerSpec.model_validate_json(spec.model_dump_json()) == spec


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"names": "sql-exec"}, "sql-exec needs sql_dumps (PostgreSQL dumps to load into a private server) or sql_url"),
        ({"names": "sql-exec", "sql_dumps": ["DUMPS"]}, "sql_db_field: 2 dumps were given; name the column"),
        ({"names": "sql-exec", "sql_dumps": ["DUMPS/README.md"]}, "is not a .sql dump"),
        ({"names": "sql-exec", "sql_dumps": ["DUMPS/nope"]}, "sql_dumps: no file or folder"),
        (
            {"names": "sql-exec", "sql_url": "mysql://u:pw@h/{db}", "sql_db_field": "db"},
            "sql_url: expected a postgresql://",
        ),
        ({"names": "sql-exec", "sql_url": "postgresql://u@h/x", "sql_db_field": "db"}, "the URL needs {db}"),
        ({"names": "sql-exec", "sql_url": "postgresql://u@h/{db}"}, "sql_db_field: the URL has {db}"),
        ({"names": "json", "sql_url": "postgresql://u@h/x"}, "need the sql-exec scorer in names"),
        ({"names": "sql-exec", "sql_dumps": ["DUMPS/yelp.sql"], "json_required_keys": ["a"]}, "need the json scorer"),
        (
            {"names": "sql-exec", "sql_dumps": ["DUMPS/yelp.sql"], "sql_timeout_s": 0},
            "sql_timeout_s: Input should be greater than 0",
        ),
        ({"names": "json, xml"}, "names: unknown scorer 'xml'"),
    ],
)
def test_each_problem_is_one_line_naming_the_field(dumps, kwargs, message):
    kwargs = {k: [p.replace("DUMPS", str(dumps)) for p in v] if k == "sql_dumps" else v for k, v in kwargs.items()}
    line = _error(**kwargs)
    assert message in line
    assert "pw" not in line  # a URL's password is never echoed


def test_json_schema_must_be_a_valid_schema(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "object", "required": ["a"]}))
    assert ScorerSpec(names="json", json_schema=path).json_schema == path
    path.write_text('{"type": 12}')
    assert "json_schema: s.json is not a valid JSON Schema: 12 is not valid" in _error(names="json", json_schema=path)
    path.write_text("{oops")
    assert "json_schema: s.json is not JSON" in _error(names="json", json_schema=path)


def test_user_scorers_are_listed_with_absolute_paths(tmp_path, monkeypatch):
    (tmp_path / "mine.py").write_text("def grade(*a): return 1\n")
    monkeypatch.chdir(tmp_path)
    spec = ScorerSpec(names="json,python:mine.py:grade")
    assert spec.user_scorers == [f"python:{tmp_path / 'mine.py'}:grade"]
    assert not spec.embedded_database


SECRET = "PASSWORD=hunter2"


@pytest.fixture
def outside_secret(tmp_path):
    """A schema-shaped file outside the schema's folder whose content must never show."""
    secret = tmp_path / "outside" / "secret.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"type": "string", "const": SECRET}))
    return secret


@pytest.mark.parametrize("ref", ["FILE_URI", "../outside/secret.json", "/outside/secret.json", "HTTP",
                                 "#/$defs/missing"])
def test_a_json_schema_ref_that_leaves_the_file_is_refused_in_one_line(tmp_path, outside_secret, loopback_http, ref):
    ref = {"FILE_URI": outside_secret.as_uri(), "HTTP": f"{loopback_http.url}/defs.json"}.get(ref, ref)
    folder = tmp_path / "schemas"
    folder.mkdir()
    path = folder / "answer.schema.json"
    path.write_text(json.dumps({"type": "object", "$defs": {"city": {"type": "string"}},
                                "properties": {"a": {"$ref": ref}}}))
    line = _error(names="json", json_schema=path)
    assert line == (f"json_schema: answer.schema.json: $ref {ref!r} does not point inside the file: only "
                    "references within the schema file are followed (no other file, no network)")
    assert loopback_http.hits == [] and SECRET not in line


def test_json_schema_refs_inside_the_file_are_kept(tmp_path, loopback_http):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://example.com/answer",
        "type": "object",
        "properties": {"city": {"$ref": "#/$defs/city"}, "when": {"$ref": "https://example.com/when"},
                       "nested": {"$ref": "#"}, "meta": {"$ref": "https://json-schema.org/draft/2020-12/schema"}},
        "$defs": {"city": {"type": "string"}, "when": {"$id": "https://example.com/when", "type": "integer"}},
    }))
    assert ScorerSpec(names="json", json_schema=path).json_schema == path  # embedded ids and bundled metaschemas
    assert loopback_http.hits == []


@pytest.mark.parametrize("url", ["postgresql://reader:s3cret@db.example/{db}",
                                 "postgresql://reader@db.example/{db}?password=s3cret",
                                 "postgres://reader@db.example/{db}?sslmode=require&sslpassword=s3cret"])
def test_a_url_with_a_password_is_refused_without_echoing_it(url):
    line = _error(names="sql-exec", sql_url=url, sql_db_field="db")
    assert line.startswith("scoring.sql_url: holds a password") or "sql_url: holds a password" in line
    assert "PGPASSWORD" in line and "s3cret" not in line


def test_a_url_without_a_password_is_kept_as_given():
    url = "postgresql://reader@db.example:5433/{db}?passfile=/home/me/.pgpass&sslmode=require"
    assert ScorerSpec(names="sql-exec", sql_url=url, sql_db_field="db").sql_url == url


def test_a_dump_folder_link_that_leaves_the_folder_is_refused(dumps, tmp_path):
    outside = tmp_path / "elsewhere" / "secret.sql"
    outside.parent.mkdir()
    outside.write_text("SELECT 1;\n")
    (dumps / "evil.sql").symlink_to(outside)
    line = _error(names="sql-exec", sql_db_field="db", sql_dumps=[dumps])
    assert f"sql_dumps: evil.sql in {dumps} links to {outside}, outside that folder: refused" in line
    (dumps / "evil.sql").unlink()
    (dumps / "evil.sql").symlink_to("/etc/passwd")
    assert "evil.sql in" in _error(names="sql-exec", sql_db_field="db", sql_dumps=[dumps])


def test_a_link_inside_the_folder_is_stored_as_its_target(dumps):
    (dumps / "alias.sql").symlink_to(dumps / "yelp.sql")
    spec = ScorerSpec(names="sql-exec", sql_db_field="db", sql_dumps=[dumps])
    assert dumps / "alias.sql" not in spec.sql_dumps and dumps / "yelp.sql" in spec.sql_dumps
