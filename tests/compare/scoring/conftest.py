"""One private PostgreSQL per test session, with a hand-made database and two sql-eval dumps
(`sql_eval`, tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from compare.scoring.postgres import PrivateServer

# pg_dump's plain format: COPY ... FROM stdin blocks ended by \. and, from pg_dump 17.6 / 16.10 on,
# \restrict / \unrestrict lines that older psql rejects.
TOY_DUMP = """\\restrict k3y
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.people (id integer NOT NULL, name text, city text, age integer, score numeric(5,2));
ALTER TABLE public.people OWNER TO postgres;
CREATE SEQUENCE public.ticket START 1;
COPY public.people (id, name, city, age, score) FROM stdin;
1\tAnn\tParis\t30\t1.50
2\tBob\tRome\t25\t2.25
3\tCid\tParis\t35\t\\N
4\tDee\tOslo\t25\t3.00
\\.
\\unrestrict k3y
"""


def write_toy_dump(folder: Path) -> Path:
    path = folder / "toy.sql"
    path.write_text(TOY_DUMP)
    return path


@pytest.fixture(scope="session")
def pg(tmp_path_factory, sql_eval) -> PrivateServer:
    """A started server with databases toy, restaurants and geography (stopped after the session,
    whatever the tests did)."""
    with PrivateServer() as server:
        server.load_dump(write_toy_dump(tmp_path_factory.mktemp("dumps")))
        for name in ("restaurants", "geography"):
            server.load_dump(sql_eval / "schemas" / f"{name}.sql")
        yield server


@pytest.fixture
def loopback_http():
    """A real HTTP server on 127.0.0.1 that serves a JSON Schema at every path and records each
    request it gets: `server.url`, `server.hits` (the paths asked for)."""
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            hits.append(self.path)
            body = b'{"type": "string", "const": "FROM-THE-NETWORK"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url, server.hits = f"http://127.0.0.1:{server.server_address[1]}", hits
    yield server
    server.shutdown()
    server.server_close()
