"""A private PostgreSQL for one scoring run: started from the binaries the PyPI package `pgserver`
ships (Debian's `postgresql` package is the fallback), the dumps loaded into one database each,
queried through a role that can only read, stopped and deleted at the end.

    with PrivateServer() as server:             # initdb + start, in server.start_s seconds
        server.load_dump(Path("schemas/academic.sql"))   # database "academic"
        url = server.url_template()   # the read-only role, {db} for the database

Three roles: the superuser (`postgres`) only creates the other two and the databases, and never
connects to a database once a dump has run in it; the loader (`ftadvisor_loader`, no superuser,
no CREATEDB/CREATEROLE/REPLICATION, member of no role: no `pg_execute_server_program`,
`pg_read_server_files`, `pg_write_server_files`) owns each database and runs its dump's checked
statements (`dump_check`, `dump_load`: plain SQL through the driver, no psql, no shell); the
reader (`ftadvisor_reader`) may connect and SELECT, in read-only transactions.

Private by construction: no TCP port (`listen_addresses = ''`), a Unix socket inside a 0700
folder of the temp dir, trust authentication for the socket only. The data is thrown away, so
durability is off (PostgreSQL docs, "Non-Durable Settings") and the stop is an immediate
shutdown (SIGQUIT, no checkpoint). No process is left behind: the context manager stops the
server on any exception, the server gets SIGQUIT when the thread that started it dies (Linux
`PR_SET_PDEATHSIG`, so even a SIGKILLed worker takes it along; start it from a thread that lives
as long as the scoring), a reaper process (`reaper.py`, in a session of its own) deletes the folder
once the owner is gone however it ended, and the folders of servers whose owner died are removed
at the next start as well.

PostgreSQL refuses to run as root: as root the server runs as the system user `pgserver` (the
one pgserver itself uses; created with useradd when missing), and the folders above the binaries
get o+x (traverse only) where they lack it, as pgserver's `ensure_prefix_permissions` does.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from compare.scoring.dump_check import read_dump
from compare.scoring.dump_load import LOAD_TIMEOUT_S, run_dump
from compare.scoring.errors import ScoringError
from compare.scoring.limits import Limits

SUPERUSER = "postgres"  # initdb -U postgres: the sql-eval dumps name it as the owner (dropped, see dump_check)
LOADER = "ftadvisor_loader"
READER = "ftadvisor_reader"
SERVER_USER = "pgserver"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
_PREFIX = "ftadvisor-pg-"
_OWNER_FILE = "owner.pid"
_REAPER = Path(__file__).with_name("reaper.py")
_UNPRIVILEGED = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
_SERVER_SETTINGS = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "20",
}


def find_bin_dir() -> Path:
    """The folder of `postgres` and `initdb`: pgserver's, else Debian's newest."""
    spec = importlib.util.find_spec("pgserver")  # found, not imported: its import makes runtime folders
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (candidate / "postgres").is_file():
            return candidate
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: _version(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    raise ScoringError(
        "sql-exec without sql_url needs PostgreSQL binaries: pip install pgserver==0.1.4 "
        "(or apt-get install postgresql), or give sql_url"
    )


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", name))


class PrivateServer:
    """One throwaway server; `start()`/`stop()` or a `with` block."""

    def __init__(self, bin_dir: Path | None = None):
        self.bin_dir = bin_dir
        self.base: Path | None = None
        self.start_s: float | None = None
        self.load_s: dict[str, float] = {}
        self._process: subprocess.Popen | None = None
        self._reaper: subprocess.Popen | None = None
        self._ids: tuple[int, int] | None = None  # (uid, gid) the server runs as, when we are root

    def __enter__(self) -> PrivateServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def databases(self) -> list[str]:
        return list(self.load_s)

    def start(self) -> None:
        started = time.perf_counter()
        self.bin_dir = self.bin_dir or find_bin_dir()
        remove_orphans()
        self.base = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self.base / _OWNER_FILE).write_text(str(os.getpid()))
        self._start_reaper()
        if os.geteuid() == 0:
            self._ids = _server_user_ids()
            os.chown(self.base, *self._ids)
            _make_traversable(self.bin_dir.parent)
        self._initdb()
        self._launch()
        self._wait_ready()
        self._create_roles()
        self.start_s = time.perf_counter() - started

    def _start_reaper(self) -> None:
        """A process that deletes the folder when this one is gone: it reads its stdin, which only
        this process holds open, until end of file (a close in `stop`, or any death)."""
        self._reaper = subprocess.Popen([sys.executable, "-I", "-S", str(_REAPER), str(self.base)],
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)

    def _as_server_user(self) -> dict:
        return {"user": self._ids[0], "group": self._ids[1], "extra_groups": []} if self._ids else {}

    def _initdb(self) -> None:
        command = [str(self.bin_dir / "initdb"), "-D", str(self.base / "data"), "-U", SUPERUSER, "--auth=trust",
                   "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions"]
        with open(self.base / "initdb.log", "wb") as log:
            done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=_clean_env(), timeout=120,
                                  check=False, **self._as_server_user())
        if done.returncode != 0:
            raise ScoringError(f"PostgreSQL initdb failed: {_tail(self.base / 'initdb.log')}")

    def _launch(self) -> None:
        settings = {**_SERVER_SETTINGS, "unix_socket_directories": str(self.base)}
        command = [str(self.bin_dir / "postgres"), "-D", str(self.base / "data")]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with open(self.base / "server.log", "wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=_clean_env(),
                                             start_new_session=True, preexec_fn=_die_with_parent,
                                             **self._as_server_user())

    def _wait_ready(self) -> None:
        """Until postmaster.pid says 'ready' (its 8th line, PM_STATUS_READY), the process exits or the timeout."""
        deadline = time.monotonic() + START_TIMEOUT_S
        pid_file = self.base / "data" / "postmaster.pid"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ScoringError(f"PostgreSQL did not start: {_tail(self.base / 'server.log')}")
            lines = pid_file.read_text().splitlines() if pid_file.exists() else []
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return
            time.sleep(0.02)
        raise ScoringError(f"PostgreSQL was not ready after {START_TIMEOUT_S:.0f} s: {_tail(self.base / 'server.log')}")

    def url(self, database: str, user: str = SUPERUSER) -> str:
        return self._url(user, quote(database, safe=""))

    def url_template(self, user: str = READER) -> str:
        """A URL with {db} standing for the database; by default the read-only role's."""
        return self._url(user, "{db}")

    def _url(self, user: str, database: str) -> str:
        return f"postgresql://{user}@/{database}?host={quote(str(self.base), safe='/')}"

    def _admin(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def _create_roles(self) -> None:
        with self._admin() as conn:
            conn.execute(f'CREATE ROLE "{LOADER}" {_UNPRIVILEGED}')
            conn.execute(f'CREATE ROLE "{READER}" {_UNPRIVILEGED}')
            conn.execute(f'ALTER ROLE "{READER}" SET default_transaction_read_only = on')
            conn.execute("REVOKE ALL ON DATABASE postgres FROM PUBLIC")

    def load_dump(self, path: Path, *, limits: Limits | None = None, timeout_s: float = LOAD_TIMEOUT_S) -> float:
        """Load a plain-format pg_dump file into a new database named after the file; seconds taken.
        Every statement is checked before any runs (ScoringError naming the file and the line)."""
        started = time.perf_counter()
        statements = read_dump(path)
        name = path.stem
        from psycopg import sql

        db, loader, reader = sql.Identifier(name), sql.Identifier(LOADER), sql.Identifier(READER)
        with self._admin() as conn:
            # FILE_COPY (PostgreSQL 15+): 20-40 ms here against 50-430 ms for the default WAL_LOG,
            # which writes the whole template into the WAL of a server whose data is thrown away.
            strategy = sql.SQL(" STRATEGY = FILE_COPY" if conn.info.server_version >= 150000 else "")
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}{}").format(db, loader, strategy))
            conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
            conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, reader))
        try:
            run_dump(self.url(name, LOADER), path.name, statements, limits=limits, timeout_s=timeout_s)
            self._grant_reads(name)
        except BaseException:
            with self._admin() as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(db))
            raise
        self.load_s[name] = time.perf_counter() - started
        return self.load_s[name]

    def _grant_reads(self, database: str) -> None:
        """As the loader (the owner): the reader may use every schema the dump made and SELECT from
        its tables; nobody else may create anything."""
        import psycopg
        from psycopg import sql

        reader = sql.Identifier(READER)
        with psycopg.connect(self.url(database, LOADER)) as conn:
            schemas = [r[0] for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE pg_has_role(nspowner, 'USAGE') AND nspname !~ '^pg_' "
                "AND nspname <> 'information_schema'")]
            for schema in map(sql.Identifier, schemas):
                conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))
                conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, reader))
                conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, reader))

    def stop(self) -> None:
        """Immediate shutdown, then the folder is deleted; safe to call twice."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
        self._process = None
        if self._reaper is not None:
            self._reaper.stdin.close()  # end of file: the reaper finds the folder gone and exits
            try:
                self._reaper.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._reaper.kill()
                self._reaper.wait()
            self._reaper = None


def remove_orphans(temp_dir: Path | None = None) -> list[Path]:
    """Delete the folders of private servers whose owner process and server are both gone."""
    removed = []
    for folder in Path(temp_dir or tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        owner = _read_pid(folder / _OWNER_FILE)
        server = _read_pid(folder / "data" / "postmaster.pid")
        if owner is not None and not _alive(owner) and (server is None or not _alive(server)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """In the child, before exec: SIGQUIT (immediate shutdown) when the parent thread dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGQUIT)  # 1 = PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass


def _server_user_ids() -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def _make_traversable(folder: Path) -> None:
    for parent in [folder, *folder.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _clean_env() -> dict[str, str]:
    """The environment without PG* variables, which would point the server's tools elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _tail(log: Path, lines: int = 3) -> str:
    text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return " | ".join(text[-lines:]) or "no log"
