"""sql-exec figures on this machine:
- the private PostgreSQL: start (initdb + start + reader role) and stop seconds, loading seconds
  of each of the 7 sql-eval dumps (median of RUNS servers);
- scoring the 190 sql-eval questions whose database is in the set: answers/s with the reference
  queries run (first batch) and cached (next batches, as for the comparison's other arms), raw
  queries/s, and the verdicts (each question's own reference scores 1, a wrong query 0);
- how many of those questions are order-sensitive under our rule (the reference has its own
  ORDER BY) and under sql-eval's (query_category order_by, or order/sort/arrange in the question).

`python -m bench scoring` (about 30 s).
"""
from __future__ import annotations

import csv
import os
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bench import sql_eval_dir

RUNS = 3
SQL_EVAL = sql_eval_dir()


def server_figures(schemas: Path) -> tuple[list[float], list[float], dict[str, list[float]]]:
    from compare.scoring.postgres import PrivateServer

    starts, stops, loads = [], [], defaultdict(list)
    for _ in range(RUNS):
        server = PrivateServer()
        try:
            server.start()
            starts.append(server.start_s)
            for dump in sorted(schemas.glob("*.sql")):
                loads[dump.stem].append(server.load_dump(dump))
        finally:
            began = time.perf_counter()
            server.stop()
            stops.append(time.perf_counter() - began)
    return starts, stops, loads


def scoring_figures(questions: list[dict], schemas: Path) -> dict:
    from compare.scoring import ScorerSpec, ScoringRow, ScoringSession
    from compare.scoring.sql_extract import reference_alternatives

    def rows(answer_of) -> list:
        return [ScoringRow(question=q["question"], answer=answer_of(q), reference=q["query"], row=q) for q in questions]

    own = rows(lambda q: reference_alternatives(q["query"])[0])
    wrong = rows(lambda q: "SELECT 42 AS answer")
    spec = ScorerSpec(names="sql-exec", sql_db_field="db_name", sql_dumps=[schemas])
    with ScoringSession(spec) as session:
        figures = {}
        for label, batch in (("cold", own), ("cached", own), ("wrong", wrong)):
            queries, query_s, began = session.databases.queries, session.databases.query_s, time.perf_counter()
            result = session.score(batch)
            figures[label] = {"seconds": time.perf_counter() - began, "summary": result.summaries["sql-exec"],
                              "queries": session.databases.queries - queries,
                              "query_s": session.databases.query_s - query_s}
    return figures


def order_rules(questions: list[dict]) -> tuple[int, int, int]:
    """(ours, sql-eval's, both): questions whose result order counts under each rule."""
    from compare.scoring.sql_extract import reference_alternatives, top_level_order_by

    words = re.compile(r"\b(order|sort|arrange)\b", re.IGNORECASE)  # sql-eval eval/eval.py normalize_table
    ours = [any(top_level_order_by(a) is not None for a in reference_alternatives(q["query"])) for q in questions]
    theirs = [q["query_category"] == "order_by" or bool(words.search(q["question"])) for q in questions]
    return sum(ours), sum(theirs), sum(a and b for a, b in zip(ours, theirs, strict=True))


def main() -> str:
    schemas = SQL_EVAL / "schemas"
    with open(SQL_EVAL / "questions_gen_postgres.csv", newline="") as f:
        loaded = {p.stem for p in schemas.glob("*.sql")}
        questions = [q for q in csv.DictReader(f) if q["db_name"] in loaded]
    load_before = os.getloadavg()[0]
    starts, stops, loads = server_figures(schemas)
    scoring = scoring_figures(questions, schemas)
    ours, theirs, both = order_rules(questions)
    load_after = os.getloadavg()[0]
    median = statistics.median
    lines = [
        "## Task-aware scorers benchmark (sql-exec)",
        "",
        (f"CPU: {os.cpu_count()} cores; load average {load_before:.1f} before, {load_after:.1f} after. "
         f"Private PostgreSQL from pgserver's binaries; medians of {RUNS} servers."),
        "",
        "| measure | value |",
        "|---|---|",
        (f"| server start (initdb + start + read-only role) | {median(starts):.2f} s "
         f"(min {min(starts):.2f}, max {max(starts):.2f}) |"),
        f"| server stop (immediate shutdown + folder removed) | {median(stops):.2f} s |",
    ]
    for name, seconds in sorted(loads.items()):
        size_kb = (schemas / f"{name}.sql").stat().st_size / 1024
        lines.append(f"| load {name}.sql ({size_kb:.0f} KB) | {median(seconds):.2f} s |")
    lines.append(f"| load all {len(loads)} dumps | {sum(median(s) for s in loads.values()):.2f} s |")
    n = len(questions)
    for label, what in (("cold", "reference queries run"), ("cached", "references cached (a second arm)")):
        fig = scoring[label]
        lines.append(f"| score {n} sql-eval answers, {what} | {fig['seconds']:.2f} s, "
                     f"{n / fig['seconds']:.0f} answers/s ({fig['queries']} queries, "
                     f"{fig['queries'] / fig['query_s']:.0f} queries/s in the database) |")
    own, wrong = scoring["cold"]["summary"], scoring["wrong"]["summary"]
    lines += [
        (f"| each question's own reference (first alternative) as the answer | execution accuracy {own.mean:.3f} "
         f"({own.scored} scored, {own.errors} errors, {own.timeouts} timeouts) |"),
        f"| `SELECT 42 AS answer` for every question | execution accuracy {wrong.mean:.3f} |",
        (f"| order-sensitive questions: ours (reference has its own ORDER BY) / sql-eval's rule / both "
         f"| {ours} / {theirs} / {both} of {n} |"),
        "",
    ]
    return "\n".join(lines)
