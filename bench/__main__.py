"""Run the benchmarks and write each one's Markdown result under bench/results/."""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
CHECKS = {"soak": "bench.soak"}  # not speed benchmarks: checks whose figures go in results/ too


def available() -> list[str]:
    benches = [m.name[len("bench_"):] for m in pkgutil.iter_modules([str(Path(__file__).parent)])
               if m.name.startswith("bench_")]
    return sorted([*benches, *CHECKS])


def main(argv: list[str]) -> int:
    options = [a for a in argv if a.startswith("-")]
    argv = [a for a in argv if not a.startswith("-")]
    if options:  # e.g. `calibrate_cpu --json`: one benchmark that takes options prints instead of writing
        module = (
            importlib.import_module(f"bench.bench_{argv[0]}") if len(argv) == 1 and argv[0] in available() else None
        )
        if module is None or not hasattr(module, "cli"):
            print(f"options {options} need one benchmark that takes them (calibrate_cpu)", file=sys.stderr)
            return 2
        return module.cli(options)
    names = argv or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available()}", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        print(f"== bench {name}", flush=True)
        section = importlib.import_module(CHECKS.get(name, f"bench.bench_{name}")).main()
        (RESULTS / f"{name}.md").write_text(section)
        print(section, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
