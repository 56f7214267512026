"""The private server: dumps load (with the time taken), the reader role cannot write, nothing is
left behind after a stop or after its owner is killed."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from compare.scoring.errors import ScoringError
from compare.scoring.postgres import PrivateServer, remove_orphans

REPO = Path(__file__).resolve().parents[3]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


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


def test_a_dump_that_fails_names_the_file_and_the_error(pg, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE public.t (id int);\nALTER TABLE public.t OWNER TO someone_else;\n")
    with pytest.raises(ScoringError, match=r'bad\.sql did not load: .*role "someone_else" does not exist'):
        pg.load_dump(bad)
    assert "bad" not in pg.databases


def test_stop_ends_the_server_and_deletes_its_folder():
    with PrivateServer() as server:
        pid, base = server.pid, server.base
        assert not _gone(pid) and base.is_dir()
    assert _gone(pid) and not base.exists()


def test_a_killed_owner_takes_its_server_along_and_the_folder_is_removed_later():
    script = ("from compare.scoring.postgres import PrivateServer\n"
              "s = PrivateServer(); s.start(); print(s.pid, s.base, flush=True)\n"
              "import time; time.sleep(120)\n")
    owner = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        pid, base = owner.stdout.readline().split()
        owner.kill()  # SIGKILL: no atexit, no finally
        owner.wait()
        assert _wait_gone(int(pid)), "the server outlived its owner"
        assert Path(base) in remove_orphans()
        assert not Path(base).exists()
    finally:
        owner.kill()
        owner.wait()
