"""The private server: dumps load (with the time taken) as an unprivileged role, a hostile dump
runs nothing and is refused with its file and line, the reader role cannot write, nothing is left
behind after a stop or after its owner is killed."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import psycopg
import pytest

from compare.scoring.errors import ScoringError
from compare.scoring.limits import Limits, Stopped
from compare.scoring.postgres import LOADER, PrivateServer, remove_orphans
from tests.wait import wait_until

REPO = Path(__file__).resolve().parents[3]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_dumps_load_into_one_database_each_with_their_rows_and_times(pg):
    assert pg.databases == ["toy", "restaurants", "geography"]
    assert pg.start_s > 0 and all(seconds > 0 for seconds in pg.load_s.values())
    with psycopg.connect(pg.url("restaurants")) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables == {"geographic", "location", "restaurant"}
        assert conn.execute("SELECT count(*) FROM public.restaurant").fetchone()[0] > 0
    with psycopg.connect(pg.url("toy")) as conn:  # the \restrict lines were dropped, the COPY block loaded
        assert conn.execute("SELECT count(*), sum(age) FROM public.people").fetchone() == (4, 115)


def test_the_server_listens_on_no_tcp_port(pg):
    with psycopg.connect(pg.url("postgres")) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""


def test_the_reader_cannot_write_even_in_a_read_write_transaction(pg):
    with psycopg.connect(pg.url_template().replace("{db}", "toy")) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 4
        conn.rollback()
        for statement in ("INSERT INTO people (id) VALUES (9)", "CREATE TABLE notes (x int)",
                          "SELECT nextval('ticket')"):
            conn.execute("BEGIN READ WRITE")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()


def test_a_dump_that_fails_names_the_file_the_line_and_the_error(pg, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE public.t (id int);\nINSERT INTO public.t VALUES ('x');\n")
    with pytest.raises(ScoringError, match=r'bad\.sql line 2 did not load: invalid input syntax for type integer'):
        pg.load_dump(bad)
    assert "bad" not in pg.databases


@pytest.fixture
def witness(tmp_path) -> Path:
    """A folder anyone may write to, so a command run by the server's user would leave its file."""
    folder = tmp_path / "witness"
    folder.mkdir()
    folder.chmod(0o777)
    tmp_path.chmod(0o755)
    return folder


HOSTILE = [  # (line 3 of a dump, the refusal)
    ("\\! id > {w}/owned.txt", "`\\!` is a psql meta-command, not SQL"),
    ("\\copy people TO '{w}/owned.txt'", "`\\copy` is a psql meta-command"),
    ("SELECT 1; \\! id > {w}/owned.txt", "`\\!` is a psql meta-command"),
    ("COPY (SELECT current_user) TO PROGRAM 'id > {w}/owned.txt';", "COPY ... PROGRAM runs a shell command"),
    ("COPY people FROM PROGRAM 'id > {w}/owned.txt';", "COPY ... PROGRAM runs a shell command"),
    ("COPY people TO '{w}/owned.txt';", "COPY to or from a file reads or writes the server's files"),
    ("COPY people FROM '/etc/passwd';", "COPY to or from a file"),
    ("ALTER SYSTEM SET archive_command = 'id > {w}/owned.txt';", "ALTER SYSTEM changes the server's configuration"),
    ("CREATE ROLE evil SUPERUSER LOGIN;", "CREATE ROLE manages roles"),
    (f"ALTER USER {LOADER} SUPERUSER;", "ALTER USER manages roles"),
    (f"GRANT pg_execute_server_program TO {LOADER};", "GRANT of a role"),
    ("SET ROLE postgres;", "switches the role"),
    ("SET SESSION AUTHORIZATION postgres;", "switches the role"),
    ("CREATE EXTENSION adminpack;", "extension adminpack is not among those a dump may create"),
    ("LOAD 'auto_explain';", "LOAD loads a library"),
    ("DO $$ BEGIN PERFORM pg_sleep(0); END $$;", "DO runs a code block"),
    ("CREATE FUNCTION evil() RETURNS int LANGUAGE c AS '/tmp/evil.so', 'evil';", "a function in language c"),
    ("CREATE DATABASE other;", "CREATE DATABASE: each dump is loaded into a database of its own"),
    ("CREATE SERVER far FOREIGN DATA WRAPPER postgres_fdw;", "CREATE SERVER reaches outside the database"),
    ("SET standard_conforming_strings = off;", "standard_conforming_strings must stay on"),
    ("CHECKPOINT;", "CHECKPOINT is not among the statements a dump may hold"),
]


@pytest.mark.parametrize("line, refusal", HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_a_hostile_dump_runs_nothing_and_is_refused_with_its_file_and_line(pg, witness, line, refusal):
    dump = witness.parent / "evil.sql"
    dump.write_text("CREATE TABLE public.people (name text);\n-- a schema, then:\n"
                    + line.format(w=witness) + "\nCREATE TABLE public.after (x int);\n")
    with pytest.raises(ScoringError) as info:
        pg.load_dump(dump)
    assert str(info.value).startswith("sql_dumps: evil.sql line 3: refused: ") and refusal in str(info.value)
    assert list(witness.iterdir()) == []  # no command ran
    assert "evil" not in pg.databases
    with psycopg.connect(pg.url("postgres")) as conn:  # nothing ran: not even the lines before it
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = 'evil'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'evil' OR rolsuper AND "
                            "rolname <> 'postgres'").fetchone()[0] == 0


def test_dumps_run_as_a_role_that_cannot_reach_the_server_files_or_programs(pg, tmp_path):
    dump = tmp_path / "whoami.sql"
    dump.write_text("CREATE TABLE public.who AS SELECT current_user AS name, r.rolsuper, r.rolreplication,\n"
                    "  ARRAY(SELECT g.rolname FROM pg_roles g WHERE pg_has_role(current_user, g.oid, 'MEMBER')\n"
                    "        AND g.rolname NOT IN (current_user, 'pg_database_owner')) AS member_of\n"
                    "  FROM pg_roles r WHERE r.rolname = current_user;\n"
                    "ALTER TABLE public.who OWNER TO postgres;\n")  # an owner from another server: dropped
    pg.load_dump(dump)
    with psycopg.connect(pg.url("whoami")) as conn:
        assert conn.execute("SELECT name, rolsuper, rolreplication, member_of FROM who").fetchone() == (
            LOADER, False, False, [])
        assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'who'").fetchone()[0] == LOADER
    for number, statement in enumerate(["SELECT pg_read_file('/etc/passwd');", "SELECT pg_ls_dir('.');",
                                        "SELECT lo_import('/etc/passwd');"]):
        dump = tmp_path / f"reader{number}.sql"
        dump.write_text(f"CREATE TABLE public.t (x int);\n{statement}\n")
        with pytest.raises(ScoringError, match=rf"reader{number}\.sql line 2 did not load: permission denied") as info:
            pg.load_dump(dump)
        assert "root:" not in str(info.value)


def test_every_sql_eval_dump_loads_with_its_rows(sql_eval):
    with PrivateServer() as server:
        for dump in sorted((sql_eval / "schemas").glob("*.sql")):
            server.load_dump(dump)
        assert server.databases == ["academic", "advising", "atis", "geography", "restaurants", "scholar", "yelp"]
        for name in server.databases:
            with psycopg.connect(server.url_template().replace("{db}", name)) as conn:
                tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
                rows = sum(conn.execute(f'SELECT count(*) FROM public."{t}"').fetchone()[0] for t in tables)
                assert tables and rows > 0, name


def test_a_dump_that_runs_too_long_is_stopped_with_its_line(pg, tmp_path):
    dump = tmp_path / "slow.sql"
    dump.write_text("CREATE TABLE public.t (x int);\nSET statement_timeout = 0;\nSELECT pg_sleep(60);\n")
    with pytest.raises(ScoringError, match=r"slow\.sql did not load within 0\.5 s \(line 3 was running\)"):
        pg.load_dump(dump, timeout_s=0.5)
    assert "slow" not in pg.databases


def test_a_cancel_stops_a_dump_while_it_loads(pg, tmp_path):
    dump = tmp_path / "slow.sql"
    dump.write_text("SELECT pg_sleep(60);\n")
    with pytest.raises(Stopped) as info:
        pg.load_dump(dump, limits=Limits(cancel_requested=lambda: True))
    assert info.value.scope == "cancel" and "slow" not in pg.databases


def test_stop_ends_the_server_and_deletes_its_folder():
    with PrivateServer() as server:
        pid, base = server.pid, server.base
        assert not _gone(pid) and base.is_dir()
    assert _gone(pid) and not base.exists()


def test_a_killed_owner_takes_its_server_and_its_folder_along():
    script = ("from compare.scoring.postgres import PrivateServer\n"
              "s = PrivateServer(); s.start(); print(s.pid, s.base, flush=True)\n"
              "import time; time.sleep(120)\n")
    owner = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        pid, base = owner.stdout.readline().split()
        owner.kill()  # SIGKILL: no atexit, no finally
        owner.wait()
        wait_until(lambda: _gone(int(pid)), timeout_s=30, what="end of the server after its owner's")
        # the reaper deletes it, nobody else
        wait_until(lambda: not Path(base).exists(), timeout_s=30, what=f"removal of {base}")
    finally:
        owner.kill()
        owner.wait()


def test_a_dead_owners_folder_is_removed_at_the_next_start(tmp_path):
    folder = tmp_path / "ftadvisor-pg-dead"
    (folder / "data").mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (folder / "owner.pid").write_text(str(dead.pid))
    assert remove_orphans(tmp_path) == [folder] and not folder.exists()


def test_a_dump_still_loading_at_the_scorings_deadline_is_stopped(pg, tmp_path):
    dump = tmp_path / "late.sql"
    dump.write_text("SELECT pg_sleep(60);\n")
    with pytest.raises(ScoringError, match=r"late\.sql did not load within the scoring's deadline \(0\.3 s\) "
                                           r"\(line 1 was running\)"):
        pg.load_dump(dump, limits=Limits(stage_s=0.3))
