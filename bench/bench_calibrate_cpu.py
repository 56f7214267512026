"""`python -m bench calibrate_cpu [--json]`: bench/calibrate_cpu.py's table, written to
bench/results/calibrate_cpu.md by `python -m bench`."""
from __future__ import annotations


def main() -> str:
    import time

    from bench.calibrate_cpu import run, table

    start = time.perf_counter()
    rows = run()
    return table(rows, time.perf_counter() - start)


def cli(options: list[str]) -> int:
    """The options `python -m bench calibrate_cpu` passes on (`--json`)."""
    from bench.calibrate_cpu import main as calibrate_main

    return calibrate_main(options)
