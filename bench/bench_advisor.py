"""The advisor's speed: `recommend()` (what-ifs included) over every scenario, first call in a
fresh process (nothing cached) and again (the estimator's sizing cached), plus `detail=False`
(what one what-if re-run costs). Run: `python -m bench advisor`."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROUNDS = 5  # fresh processes; each times every scenario once cold, once warm

_CHILD = """
import json, time
from advisor import recommend
from advisor.scenarios import load_scenarios
scenarios = load_scenarios()
cold, warm, bare = [], [], []
for s in scenarios:
    t = time.perf_counter(); recommend(s.answers); cold.append(time.perf_counter() - t)
    t = time.perf_counter(); recommend(s.answers); warm.append(time.perf_counter() - t)
    t = time.perf_counter(); recommend(s.answers, detail=False); bare.append(time.perf_counter() - t)
print(json.dumps({"cold": cold, "warm": warm, "bare": bare, "n": len(scenarios)}))
"""


def measure() -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"cold": [], "warm": [], "bare": []}
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for _ in range(ROUNDS):
        run = subprocess.run([sys.executable, "-c", _CHILD], check=True, capture_output=True, text=True,
                             cwd=REPO, env=env)
        data = json.loads(run.stdout)
        for k in out:
            out[k] += data[k]
        out["n"] = data["n"]
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main() -> str:
    load = os.getloadavg()[0]
    t = measure()
    rows = [("first call (nothing cached)", t["cold"]), ("same answers again (sizing cached)", t["warm"]),
            ("`detail=False` (one what-if re-run), cached", t["bare"])]
    return "\n".join([
        "## Advisor speed",
        "",
        f"`recommend()` over the {t['n']} scenarios, {ROUNDS} fresh processes, {os.cpu_count()} CPU cores, "
        f"load average {load:.1f} at the start.",
        "",
        "| call | median | p95 | max |",
        "|---|---|---|---|",
        *[f"| {name} | {_ms(statistics.median(v))} | {_ms(_p95(v))} | {_ms(max(v))} |" for name, v in rows],
        "",
    ])


if __name__ == "__main__":
    print(main())
