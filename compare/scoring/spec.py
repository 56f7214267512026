"""`ScorerSpec`: which task-aware scorers run on a comparison's answers, and their settings.

    ScorerSpec(names="json,sql-exec", sql_db_field="db_name", sql_dumps=["schemas/"])
    ScorerSpec(names=["sql-exec"], sql_db_field="db_name", sql_url="postgresql://reader@host/{db}")
    ScorerSpec(names=["python:checks.py:grade"])

Paths are stored absolute and dump folders expanded to their .sql files, so the worker that
scores can run from anywhere and loads exactly what was checked here. A dump is judged by where
it resolves: a folder's link to a file outside it is refused. `sql_url` holds no password: the
spec is saved as the run's spec.json, so the password stays where libpq reads it (PGPASSWORD,
~/.pgpass, or a passfile the URL names).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.vocabulary import USER_SCORER_PREFIX
from compare.scoring.registry import parse_scorer_names, resolve_user_scorer

# sql-eval's default execution timeout (main.py `--timeout_exec 10.0`), in seconds.
DEFAULT_SQL_TIMEOUT_S = 10.0
DB_PLACEHOLDER = "{db}"
_SECRET_PARAMETERS = ("password", "sslpassword")  # libpq takes both in a URL's query


class ScorerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(
        min_length=1,
        description="Scorers: json, sql-exec, python:MODULE:FUNCTION (MODULE a dotted module or a .py file).",
    )
    json_schema: Path | None = Field(None, description="json: a JSON Schema file every answer must satisfy.")
    json_required_keys: list[str] = Field(
        default_factory=list, description="json: top-level keys every answer (a JSON object) must have."
    )
    sql_db_field: str | None = Field(
        None, description="sql-exec: the dataset column naming each question's database (e.g. db_name)."
    )
    sql_url: str | None = Field(
        None,
        description="sql-exec: your PostgreSQL, postgresql://USER@HOST:PORT/{db} ({db} is replaced by the row's "
        "database); nothing is loaded. Queries run with that role's rights, read-only with the statement timeout; "
        "a role that may do more than read (superuser, replication, server files) is refused unless allowed "
        "(--sql-allow-superuser). No password in the URL (the run's spec.json would keep it): set PGPASSWORD, use "
        "~/.pgpass or ?passfile=FILE. Without it a private server is started and sql_dumps loaded.",
    )
    sql_allow_superuser: bool = Field(
        False, description="sql-exec: accept a sql_url role that may do more than read (a superuser can still "
        "create replication slots, end sessions or read server files from a SELECT).")
    sql_dumps: list[Path] = Field(
        default_factory=list,
        description="sql-exec: PostgreSQL dumps (plain .sql files or folders of them) loaded into the private "
        "server, one database per file named after it (schemas/academic.sql -> academic).",
    )
    sql_timeout_s: float = Field(
        DEFAULT_SQL_TIMEOUT_S, gt=0, le=600, description="sql-exec: statement timeout per query, in seconds."
    )
    sql_answer_deadline_s: float = Field(
        60.0, gt=0, le=3600, description="sql-exec: seconds one answer's query and comparison may take in all "
        "(past it: status timeout, score 0); the reference's alternatives, run once per question, as long again.")
    sql_deadline_s: float = Field(
        3600.0, gt=0, le=7 * 86400, description="sql-exec: seconds for all of scoring (loading the dumps included); "
        "answers not scored by then are excluded, with a note.")

    @field_validator("names", mode="before")
    @classmethod
    def _parse_names(cls, value: Any) -> list[str]:
        if not isinstance(value, (str, list)):
            raise ValueError("expected scorer names, e.g. 'json,sql-exec'")
        names = parse_scorer_names(value)
        return [resolve_user_scorer(n) if n.startswith(USER_SCORER_PREFIX) else n for n in names]

    @model_validator(mode="after")
    def _check_options(self) -> ScorerSpec:
        if "json" in self.names:
            if self.json_schema is not None:
                self.json_schema = self.json_schema.expanduser().resolve()
                load_json_schema(self.json_schema)
        elif self.json_schema is not None or self.json_required_keys:
            raise ValueError("json_schema and json_required_keys need the json scorer in names")
        if "sql-exec" in self.names:
            self._check_sql()
        elif self.sql_url or self.sql_db_field or self.sql_dumps or self.sql_allow_superuser:
            raise ValueError(
                "sql_url, sql_db_field, sql_dumps and sql_allow_superuser need the sql-exec scorer in names"
            )
        return self

    def _check_sql(self) -> None:
        if self.sql_url is not None:
            _check_url(self.sql_url, self.sql_db_field)
            return
        if not self.sql_dumps:
            raise ValueError(
                "sql-exec needs sql_dumps (PostgreSQL dumps to load into a private server) or sql_url (your server)"
            )
        self.sql_dumps = expand_dumps(self.sql_dumps)
        if self.sql_db_field is None and len(self.sql_dumps) > 1:
            raise ValueError(
                f"sql_db_field: {len(self.sql_dumps)} dumps were given; name the column that says which database "
                "each question runs on (e.g. db_name)"
            )

    @property
    def user_scorers(self) -> list[str]:
        return [n for n in self.names if n.startswith(USER_SCORER_PREFIX)]

    @property
    def embedded_database(self) -> bool:
        """True when sql-exec runs on a private server started for the scoring."""
        return "sql-exec" in self.names and self.sql_url is None


def _check_url(url: str, db_field: str | None) -> None:
    # The URL is not echoed back: it may hold a password.
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("sql_url: expected a postgresql://USER@HOST:PORT/{db} URL")
    parts = urlsplit(url)
    if ":" in parts.netloc.rpartition("@")[0] or any(k in parse_qs(parts.query) for k in _SECRET_PARAMETERS):
        raise ValueError("sql_url: holds a password, which would be saved in the run's spec.json: remove it and set "
                         "PGPASSWORD, use ~/.pgpass, or name a password file with ?passfile=FILE")
    if db_field is not None and DB_PLACEHOLDER not in url:
        raise ValueError(f"sql_url: with sql_db_field the URL needs {DB_PLACEHOLDER} where the database name goes")
    if db_field is None and DB_PLACEHOLDER in url:
        raise ValueError(f"sql_db_field: the URL has {DB_PLACEHOLDER}; name the column that holds each row's database")


def expand_dumps(paths: list[Path]) -> list[Path]:
    """Files as given (they must resolve to a .sql file), folders as their *.sql files (other files
    are skipped, so the comparison's documents folder can be passed as is); one database name per
    file. Every path is stored resolved; a folder's entry that resolves outside the folder (a link
    to /etc/...) is refused."""
    files: list[Path] = []
    for path in (p.expanduser().resolve() for p in paths):
        if path.is_dir():
            files += sorted(_inside(p, path) for p in path.glob("*.sql") if p.is_file())
        elif path.is_file() and path.suffix == ".sql":
            files.append(path)
        elif path.is_file():
            raise ValueError(f"sql_dumps: {path} is not a .sql dump")
        else:
            raise ValueError(f"sql_dumps: no file or folder {path}")
    if not files:
        raise ValueError("sql_dumps: no .sql file in " + ", ".join(str(p) for p in paths))
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems and stems[f.stem] != f:
            raise ValueError(f"sql_dumps: two dumps would be database {f.stem!r}: {stems[f.stem]} and {f}")
        stems[f.stem] = f
    return list(stems.values())


def _inside(entry: Path, folder: Path) -> Path:
    """`entry` resolved, when that stays inside `folder` (itself resolved) and is a .sql file."""
    target = entry.resolve()
    if not target.is_relative_to(folder):
        raise ValueError(f"sql_dumps: {entry.name} in {folder} links to {target}, outside that folder: refused "
                         "(a dump is read where it lies)")
    if target.suffix != ".sql":
        raise ValueError(f"sql_dumps: {entry.name} in {folder} links to {target.name}, not a .sql dump")
    return target


def load_json_schema(path: Path) -> dict[str, Any] | bool:
    """The schema in `path`, checked against its metaschema (jsonschema's `check_schema`), with
    every `$ref` resolving inside the file (`json_refs`: no other file, no network)."""
    from jsonschema import exceptions, validators

    from compare.scoring.json_refs import outside_refs

    if not path.is_file():
        raise ValueError(f"json_schema: no file {path}")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"json_schema: {path.name} is not JSON ({exc})") from None
    except RecursionError:
        raise ValueError(f"json_schema: {path.name} is nested too deeply to read") from None
    if not isinstance(schema, (dict, bool)):
        raise ValueError(f"json_schema: {path.name} must hold a JSON object, got {type(schema).__name__}")
    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as exc:
        raise ValueError(f"json_schema: {path.name} is not a valid JSON Schema: {exc.message}") from None
    for ref in outside_refs(schema)[:1]:
        raise ValueError(f"json_schema: {path.name}: $ref {ref!r} does not point inside the file: only references "
                         "within the schema file are followed (no other file, no network)")
    return schema
