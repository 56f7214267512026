"""Benchmarks: `make bench` (all) or `python -m bench NAME...`. Each bench_*.py has `main() -> str`
returning a Markdown section; results are written to bench/results/NAME.md."""

import os
from pathlib import Path


def sql_eval_dir() -> Path:
    """The sql-eval dataset (defog-ai/sql-eval: schemas/*.sql, questions_gen_postgres.csv):
    $FTADVISOR_SQL_EVAL, else ../shared/datasets/sql-eval beside the checkout."""
    if os.environ.get("FTADVISOR_SQL_EVAL"):
        return Path(os.environ["FTADVISOR_SQL_EVAL"])
    return Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "sql-eval"
