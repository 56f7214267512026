"""The comparison of `python -m bench compare` on the public Text-to-SQL benchmark sql-eval
(defog-ai/sql-eval: `questions_gen_postgres.csv` and `schemas/`, in the folder `SQL_EVAL` names):
SmolLM2-135M-Instruct, the comparison's defaults, execution accuracy (sql-exec). A 135M model
writes no query that runs right on its 7 databases (0 in every arm), which is why the default
example is bench/data/shop_sql; this one says what a bigger `--model` must do.

The run stays in the runs folder (`*-bench-compare-sql-eval`). `FTADVISOR_BENCH_COMPARE_ARGS`
adds flags (e.g. "--eval-count 8" for a quick look).
"""
from __future__ import annotations

from pathlib import Path

from bench import sql_eval_dir
from bench.bench_compare import command as sql_command
from bench.bench_compare import report, run

SQL_EVAL = sql_eval_dir()


def command(output: Path) -> list[str]:
    """docs/compare.md's example, word for word (its paths in the sql-eval folder)."""
    return sql_command(output, SQL_EVAL / "questions_gen_postgres.csv", SQL_EVAL / "schemas")


def main() -> str:
    from common.settings import load_settings

    run_dir = load_settings().new_run_dir("bench-compare-sql-eval")
    wall = run(command(run_dir), run_dir)
    shown = " ".join(command(Path("runs/sql-eval"))).replace(str(SQL_EVAL), "../shared/datasets/sql-eval")
    return report("sql-eval", shown, run_dir, wall)
