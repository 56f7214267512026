"""Benchmarks: `make bench` (all) or `python -m bench NAME...`. Each bench_*.py has `main() -> str`
returning a Markdown section; results are written to bench/results/NAME.md."""
