"""The comparison of `python -m bench compare` on the public Text-to-SQL benchmark sql-eval
(defog-ai/sql-eval: `questions_gen_postgres.csv` and `schemas/`, in the folder `SQL_EVAL` names):
SmolLM2-135M-Instruct, the comparison's defaults, execution accuracy (sql-exec). A 135M model
writes no query that runs right on its 7 databases (0 in every arm), which is why the default
example is bench/data/shop_sql; this one says what a bigger `--model` must do.

The run stays in the runs folder (`*-bench-compare-sql-eval`). `FTADVISOR_BENCH_COMPARE_ARGS`
adds flags (e.g. "--eval-count 8" for a quick look).
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from bench import sql_eval_dir
from bench.bench_compare import MODEL, report, run

SQL_EVAL = sql_eval_dir()


def command(output: Path) -> list[str]:
    """docs/compare.md's example, word for word (its paths in the sql-eval folder)."""
    return ["compare", "--data", str(SQL_EVAL / "questions_gen_postgres.csv"), "--prompt-field", "question",
            "--completion-field", "query", "--docs", str(SQL_EVAL / "schemas"), "--relevant-field", "db_name",
            "--scorer", "sql-exec", "--sql-db-field", "db_name",
            "--model", MODEL, "--output", str(output),
            *shlex.split(os.environ.get("FTADVISOR_BENCH_COMPARE_ARGS", ""))]


def main() -> str:
    from common.settings import load_settings

    run_dir = load_settings().new_run_dir("bench-compare-sql-eval")
    wall = run(command(run_dir), run_dir)
    shown = " ".join(command(Path("runs/sql-eval"))).replace(str(SQL_EVAL), "../shared/datasets/sql-eval")
    return report("sql-eval", shown, run_dir, wall)
