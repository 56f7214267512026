"""sql-exec's safety bounds on this machine: how long a hostile dump takes to be refused,
and the worst cases of scoring with the bounds on:
- a 10-column answer whose columns all hold the same value (every pairing agrees on sorted
  values; the exhaustive search took 50 s here, each more column ~20x);
- a reference `SELECT {c0, ..., c17} ...` (262,143 alternatives; all of them took 489 s);
- an answer of 3,000 rows of 1 MB (the scorer peaked at 5.8 GB): the peak memory of a process
  that only runs it (VmHWM), with the 32 MiB cap;
- 40 columns that are permutations of one another: the pairing search stops at its cap;
- a cancel requested while a query sleeps: seconds until the query is stopped.

`python -m bench sql_bounds` (about 20 s).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOSTILE = {
    "psql shell escape `\\! id > owned.txt`": "\\! id > owned.txt",
    "`COPY (SELECT current_user) TO PROGRAM 'id > owned2.txt'`":
        "COPY (SELECT current_user) TO PROGRAM 'id > owned2.txt';",
    "`COPY t FROM '/etc/passwd'`": "COPY t FROM '/etc/passwd';",
    "`ALTER SYSTEM SET ...`": "ALTER SYSTEM SET archive_command = 'id';",
    "`CREATE ROLE evil SUPERUSER`": "CREATE ROLE evil SUPERUSER;",
    "`SELECT pg_read_file('/etc/passwd')` (refused by the server: the loader's rights)":
        "SELECT pg_read_file('/etc/passwd');",
}
WIDE = """
import re, sys, time
from compare.scoring.sql_exec import Databases
dbs = Databases(sys.argv[1], timeout_s=60, known={"bench"})
began = time.perf_counter()
outcome = dbs.run("bench", "SELECT i, repeat('x', 1000000) FROM generate_series(1, 3000) i")
seconds = time.perf_counter() - began
dbs.close()
print(int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024, seconds)
print(outcome.error)
"""


def refusal_seconds(server, folder: Path) -> dict[str, float]:
    """Median seconds from load_dump to the refusal, over 5 tries, each behind 200 lines of schema."""
    from compare.scoring.errors import ScoringError

    schema = "".join(f"CREATE TABLE public.t{i} (id int, name text);\n" for i in range(200))
    out = {}
    for label, line in HOSTILE.items():
        times = []
        for attempt in range(5):
            dump = folder / f"hostile{attempt}.sql"
            dump.write_text(schema + line + "\n")
            began = time.perf_counter()
            try:
                server.load_dump(dump)
            except ScoringError:
                times.append(time.perf_counter() - began)
        out[label] = statistics.median(times)
    return out


def scoring_seconds(server) -> dict[str, tuple[float, object]]:
    from compare.scoring.results import ScoringRow
    from compare.scoring.sql_exec import Databases, SqlExecScorer

    cases = {
        "10 equal columns (answer and reference)": (
            "SELECT " + ", ".join(f"c{i} AS x{i}" for i in range(10)) + ", 2 AS extra FROM wide",
            "SELECT " + ", ".join(f"c{i}" for i in range(10)) + " FROM wide"),
        "14 equal columns": ("SELECT " + ", ".join(f"c{i} AS x{i}" for i in range(14)) + " FROM wide",
                             "SELECT " + ", ".join(f"c{i}" for i in range(14)) + " FROM wide"),
        "reference `SELECT {c0, ..., c17} FROM wide`, a wrong answer": (
            "SELECT c0 FROM wide WHERE false", "SELECT {" + ", ".join(f"c{i}" for i in range(18)) + "} FROM wide"),
    }
    # 40 columns holding 0..22 in different orders: every pairing agrees on sorted values, none on rows.
    orders = [f"(i * {k} + {k * 7}) % 23" for k in range(1, 23)] * 2
    cases["40 columns, each a permutation of the others (the search's cap)"] = (
        "SELECT "
        + ", ".join(f"{o} AS g{n}" for n, o in enumerate(reversed(orders[:40])))
        + " FROM generate_series(0, 22) i",
        "SELECT " + ", ".join(f"{o} AS r{n}" for n, o in enumerate(orders[:40])) + " FROM generate_series(0, 22) i",
    )
    out = {}
    for label, (answer, reference) in cases.items():
        dbs = Databases(server.url_template(), timeout_s=1.0, known=set(server.databases))
        try:
            began = time.perf_counter()
            verdict = SqlExecScorer(dbs, db_field="db")(ScoringRow(question="q", answer=answer, reference=reference,
                                                                   row={"db": "bench"}))
            out[label] = (time.perf_counter() - began, verdict, dbs.queries)
        finally:
            dbs.close()
    return out


def cancel_seconds(server) -> float:
    """Seconds from the cancel request to the query's end, a query sleeping 30 s."""
    import psycopg

    from compare.scoring.limits import Limits, Stopped
    from compare.scoring.sql_exec import Databases

    asked, asked_at = threading.Event(), []

    def ask_once_running():
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            while not conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'").fetchone()[0]:
                time.sleep(0.02)
        asked_at.append(time.perf_counter())
        asked.set()

    dbs = Databases(server.url_template(), timeout_s=60, known=set(server.databases),
                    limits=Limits(cancel_requested=asked.is_set))
    helper = threading.Thread(target=ask_once_running)
    helper.start()
    try:
        dbs.run("bench", "SELECT pg_sleep(30)")
    except Stopped:
        ended = time.perf_counter()
    finally:
        helper.join()
        dbs.close()
    return ended - asked_at[0]


def main() -> str:
    from compare.scoring.postgres import PrivateServer

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, PrivateServer() as server:
        folder = Path(tmp)
        cols = ", ".join(f"c{i} int" for i in range(20))
        (folder / "bench.sql").write_text(f"CREATE TABLE public.wide ({cols});\n"
                                          f"INSERT INTO public.wide VALUES ({', '.join(['1'] * 20)});\n")
        server.load_dump(folder / "bench.sql")
        refusals = refusal_seconds(server, folder)
        scoring = scoring_seconds(server)
        cancel = cancel_seconds(server)
        wide = subprocess.run([sys.executable, "-c", WIDE, server.url_template()], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.splitlines()
    peak_mib, wide_s = wide[0].split()
    lines = ["## sql-exec safety bounds", "",
             f"CPU: {os.cpu_count()} cores; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.",
             "", "| case | result |", "|---|---|"]
    for label, seconds in refusals.items():
        lines.append(f"| refused: {label}, after 200 lines of schema | {seconds * 1000:.0f} ms |")
    for label, (seconds, verdict, queries) in scoring.items():
        note = f"; note: {verdict.note}" if verdict.note else ""
        lines.append(f"| score: {label} | {seconds:.2f} s, {queries} queries, score {verdict.score}{note} |")
    lines += [f"| an answer of 3,000 rows of 1 MB | {wide[1]}; peak {peak_mib} MiB, {float(wide_s):.2f} s |",
              f"| cancel requested while a query sleeps 30 s | stopped after {cancel:.2f} s |", ""]
    return "\n".join(lines)
