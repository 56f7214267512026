"""The report's comparison section, from a comparison run's `compare.results.Results`: what the
evidence shows (its paragraph) first, the picture of quality against serving cost per 1k queries,
the metric table with the arms in their logical order (task-aware scorers first), then the serving
costs and break-even volumes. Which comparison runs a report can carry: `comparison_runs`.

`compare` is imported inside these functions only, when a report carries a comparison (its
results, costs and evidence modules are pydantic models: no torch; its chart imports matplotlib
when drawn), so `import advisor` stays light."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.document import Chart, Table
from advisor.errors import AdvisorError
from common.errors import describe_validation_error

if TYPE_CHECKING:
    from compare.results import Results

# The cost goes to the costs table; the metric table shows quality and latency.
_COST_METRIC = "cost_per_1k_queries_usd"
_FORMATS = {"generated_tokens_mean": "{:.1f}"}


def load_comparison(comparison: Any) -> Results | None:
    """A comparison run's results from its folder, its `results.json`, their dict or the
    `Results` itself; an `AdvisorError` naming `--comparison` when it is none of these."""
    if comparison is None:
        return None
    from compare.errors import CompareError
    from compare.results import Results, load_results

    try:
        if isinstance(comparison, Results):
            return comparison
        if isinstance(comparison, (str, Path)):
            return load_results(comparison)
        if isinstance(comparison, dict):
            return Results.model_validate(comparison)
    except CompareError as exc:
        raise AdvisorError(f"--comparison: {exc}") from None
    except ValidationError as exc:
        problems = describe_validation_error(exc)
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise AdvisorError("--comparison: not a comparison's results: " + "; ".join(problems[:3]) + more) from None
    raise AdvisorError(f"--comparison: expected a comparison run folder, its results.json or its Results, "
                       f"got {type(comparison).__name__}")


def ordered_arms(results: Results) -> list[str]:
    """The arms in their logical order (compare.spec.ARMS: base, fewshot, rag, finetuned, finetuned_rag)."""
    from compare.spec import ARMS

    return sorted(results.arms, key=lambda arm: ARMS.index(arm) if arm in ARMS else len(ARMS))


def arm_title(arm: str) -> str:
    from compare.spec import ARM_TITLES

    return ARM_TITLES.get(arm, arm)


def comparison_blocks(results: Results) -> list[Any]:
    """The section's blocks: the evidence paragraph, what ran, the picture (when the run has
    evidence to draw), the metric table, the costs, the run's notes."""
    blocks: list[Any] = [results.evidence.paragraph] if results.evidence else []
    run = Path(results.run_dir).name
    blocks.append(f"{Path(results.model).name or results.model}: {results.eval_examples} held-out questions "
                  f"(trained on {results.train_examples}), seed {results.seed}, k={results.k}; run {run}.")
    if results.evidence is not None:
        from compare.chart import quality_cost_chart

        blocks.append(Chart(f"{results.evidence.metric_label} against serving cost per 1k queries",
                            partial(quality_cost_chart, results),
                            md_note=f"the picture is in the HTML and PDF versions of this report (run {run})"))
    blocks.append(metric_table(results))
    blocks += retrieval_split_table(results) + how_sure_table(results)
    blocks += _scorer_counts(results) + _cost_blocks(results)
    if results.notes:
        blocks += ["Notes:", list(results.notes)]
    return blocks


def metric_table(results: Results) -> Table:
    """Arms x metrics: the task-aware scorers (compare.results.SCORER_LABELS), then every metric
    of METRIC_LABELS but the cost; a metric no arm has (hit@k without retrieval) is left out."""
    from compare.results import METRIC_LABELS, SCORER_LABELS, metric_value

    arms = [results.arms[a] for a in ordered_arms(results)]
    fields = [f for f in METRIC_LABELS if f != _COST_METRIC and any(metric_value(m, f) is not None for m in arms)]
    headers = ["arm", *(SCORER_LABELS.get(s, s) for s in results.scorers), *(METRIC_LABELS[f] for f in fields)]
    rows = []
    for m in arms:
        scored = [_num(m.scores[s].mean if s in m.scores else None) for s in results.scorers]
        rows.append([arm_title(m.arm), *scored, *(_num(metric_value(m, f), _FORMATS.get(f, "{:.3f}")) for f in fields)])
    return Table(headers, rows)


def retrieval_split_table(results: Results) -> list[Any]:
    """Each retrieval arm's questions by (passage found, answer right), when there is one."""
    arms = [a for a in ordered_arms(results) if results.arms[a].retrieval_split]
    if not arms:
        return []
    rows = [[arm_title(a), *(str(getattr(results.arms[a].retrieval_split, f))
                             for f in ("hit_correct", "hit_wrong", "miss_correct", "miss_wrong"))] for a in arms]
    return ["Retrieval hits against right answers (fix the retriever, or the model?):",
            Table(["arm", "found, right", "found, wrong", "missed, right", "missed, wrong"], rows)]


def how_sure_table(results: Results) -> list[Any]:
    """The best arm against each other arm on the ranking metric: difference, interval, McNemar p."""
    ev = results.evidence
    if ev is None or not ev.versus_best:
        return []
    rows = [[arm_title(a), f"{c.difference:+.3f}", f"{c.ci_low:+.3f} to {c.ci_high:+.3f}", _num(c.mcnemar_p, "{:.3g}"),
             "yes" if c.clear else "no", str(c.questions_needed or "-")] for a, c in ev.versus_best.items()]
    return [f"How sure: {arm_title(ev.best_arm)} against each arm on {ev.metric_label}, paired over the same "
            "questions (95% bootstrap interval of the difference; McNemar for 0/1 scores):",
            Table(["arm", "difference", "95% interval", "McNemar p", "beyond the noise", "questions to separate"], rows)]


def _scorer_counts(results: Results) -> list[Any]:
    """Answers a scorer failed, timed out on or left out, per arm (only when there are some)."""
    from compare.results import SCORER_LABELS

    lines = []
    for s in results.scorers:
        counts = []
        for a in ordered_arms(results):
            x = results.arms[a].scores.get(s)
            counted = [_count(n, what) for n, what in ((x.errors, "error"), (x.timeouts, "timeout"),
                                                       (x.excluded, "excluded")) if n] if x else []
            counts += [f"{arm_title(a)}: {', '.join(counted)}"] if counted else []
        if counts:
            lines.append(f"{SCORER_LABELS.get(s, s)} (an error or a timeout scores 0; excluded: not scored): "
                         + "; ".join(counts))
    return [lines] if lines else []


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("s" if n != 1 and what != "excluded" else "")


def _cost_blocks(results: Results) -> list[Any]:
    """The serving cost per 1k queries and the one-off cost of each arm, and the volumes after
    which an arm that costs more up front costs less in total (compare.costs.break_even)."""
    c = results.costs
    if c is None:
        return []
    if c.usd_per_hour is None:
        return [f"No serving cost: {c.price_source or f'no price for {c.gpu}'}."]
    arms = [a for a in ordered_arms(results) if a in c.arms]
    rows = [[arm_title(a), _usd(c.arms[a].per_1k_queries_usd), _usd(c.arms[a].fixed_usd)] for a in arms]
    blocks: list[Any] = [f"Serving cost at {c.gpu} (${c.usd_per_hour:.2f}/h). {c.basis}",
                         Table(["arm", "per 1k queries", "one-off (index, training)"], rows)]
    pays_back = [f"{arm_title(b.cheaper_after)} costs less than {arm_title(b.than)} in total after "
                 f"{b.queries:,.0f} queries." for b in c.break_even if b.queries]
    if pays_back:
        blocks.append(pays_back)
    return blocks


def _num(v: float | None, fmt: str = "{:.3f}") -> str:
    return "-" if v is None else fmt.format(v)


def _usd(v: float) -> str:
    """Dollars with the cents that matter: `$0.2778` per 1k queries, `$2.02` once, `$1,250`."""
    return f"${v:,.0f}" if v >= 100 else f"${v:,.2f}" if v >= 1 else f"${v:.4f}" if v else "$0"


def comparison_json(results: Results) -> dict:
    """The results as the JSON report carries them: the evidence first, the arms in order."""
    data = results.model_dump(mode="json")
    data["arms"] = {a: data["arms"][a] for a in ordered_arms(results)}
    return {"evidence": data.pop("evidence"), **data}


class ComparisonRun(BaseModel):
    """A completed comparison run a report can carry."""

    model_config = ConfigDict(extra="forbid")

    run_dir: str
    label: str = Field(description="The run's folder name and model, for a picker.")
    from_answers: bool = Field(description="Launched from the answers asked about (compare.results.find_comparison).")


def comparison_runs(runs_root: str | Path, answers: Any) -> list[ComparisonRun]:
    """Completed comparison runs under `runs_root`: the newest one launched from `answers` first,
    then the others, newest first."""
    from compare.results import RESULTS_FILE, find_comparison
    from runs import list_runs

    mine = find_comparison(runs_root, answers)
    runs = []
    for r in list_runs(runs_root):
        if r.kind != "compare" or r.state != "completed" or not (Path(r.run_dir) / RESULTS_FILE).exists():
            continue
        own = Path(r.run_dir) == mine
        label = f"{Path(r.run_dir).name} ({Path(r.model or '').name or 'model unknown'})"
        runs.append(ComparisonRun(run_dir=r.run_dir, from_answers=own,
                                  label=label + (", from these answers" if own else "")))
    return sorted(runs, key=lambda r: not r.from_answers)  # stable: newest first otherwise
