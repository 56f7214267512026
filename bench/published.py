"""The estimator against published peak-memory measurements (bench/measurements/published.json).

Each case is compared like with like: torch.cuda.max_memory_allocated -> the allocated sum,
max_memory_reserved -> plus the allocator's slack, nvidia-smi -> the whole total with the CUDA
context; decimal GB are converted to bytes as printed.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

MEASUREMENTS = Path(__file__).parent / "measurements" / "published.json"
UNIT_BYTES = {"GB": 1e9, "GiB": 2**30}


@dataclass
class Comparison:
    source: str
    name: str
    kind: str
    measured_gb: float
    estimated_gb: float
    tolerance: float
    excluded: str
    stack: str = "trl"

    @property
    def error(self) -> float:
        return self.estimated_gb / self.measured_gb - 1

    @property
    def ok(self) -> bool:
        return abs(self.error) <= self.tolerance


def load(path: Path = MEASUREMENTS) -> dict:
    return json.loads(path.read_text())


def compared_bytes(breakdown, metric: str) -> float:
    if metric == "max_memory_allocated":
        return breakdown.allocated_bytes
    if metric == "max_memory_reserved":
        return breakdown.allocated_bytes + breakdown.components["allocator_overhead"].bytes
    return breakdown.total_bytes


def compare(path: Path = MEASUREMENTS) -> list[Comparison]:
    """Every case with its estimate, in the file's unit."""
    from estimator import load_model_spec
    from estimator.peak_memory import memory_breakdown
    from estimator.request import EstimateRequest

    data = load(path)
    sources = {s["id"]: s for s in data["sources"]}
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in data["cases"]:
            fields = dict(case["request"])
            if fields["model"].startswith("@"):  # a model shipped in the file, not in the catalog
                config = {k: v for k, v in data["models"][fields["model"][1:]].items() if not k.startswith("_")}
                fields["model"] = str(Path(tmp) / f"{fields['model'][1:]}.json")
                Path(fields["model"]).write_text(json.dumps(config))
            req = EstimateRequest(**fields)
            source = sources[case["source"]]
            bytes_ = compared_bytes(memory_breakdown(req, load_model_spec(req.model)), source["metric"])
            unit = UNIT_BYTES[source["unit"]]
            out.append(Comparison(case["source"], case["name"], case["kind"], case["measured"],
                                  round(bytes_ / unit, 2), case["tolerance"], case.get("excluded", ""), req.stack))
    return out


def markdown(rows: list[Comparison]) -> str:
    lines = ["| source | stack | case | measured | estimated | error | tolerance | |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        mark = "excluded" if r.excluded else ("ok" if r.ok else "OUT")
        lines.append(f"| {r.source} | {r.stack} | {r.name} | {r.measured_gb:.2f} | {r.estimated_gb:.2f} | "
                     f"{r.error:+.1%} | ±{r.tolerance:.0%} | {mark} |")
    return "\n".join(lines)


SERVING = Path(__file__).parent / "measurements" / "serving.json"


@dataclass
class ServingComparison:
    source: str
    name: str
    measured_s: float
    estimated_s: float

    @property
    def error(self) -> float:
        return self.estimated_s / self.measured_s - 1


def compare_serving(path: Path = SERVING) -> list[ServingComparison]:
    """Every published serving latency against `serving_estimate` at its defaults."""
    from estimator import ServingRequest, serving_estimate

    out = []
    for case in load(path)["cases"]:
        fields = {k: case[k] for k in ("model", "gpu", "prompt_tokens", "output_tokens", "concurrency")}
        est = serving_estimate(ServingRequest(**fields))
        name = (f"{case['model'].split('/')[-1]} on {case['gpu']}, {case['prompt_tokens']} -> {case['output_tokens']} "
                f"tokens, {case['concurrency']} at once")
        out.append(ServingComparison(case["source"], name, case["latency_s"], round(est.latency_s, 4)))
    return out


def serving_markdown(rows: list[ServingComparison]) -> str:
    lines = ["| source | case | measured latency s | estimated s | error |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r.source} | {r.name} | {r.measured_s:.3f} | {r.estimated_s:.3f} | {r.error:+.1%} |" for r in rows]
    return "\n".join(lines)
