"""A comparison run in the advisor's report, the data side: which runs a report can carry
(`comparison_runs`), their results from a folder, a file or a dict (`load_comparison`), and the
results as the JSON report carries them (`comparison_json`). The comparison's sections in md, html
and pdf are compare.view's, the one view of a comparison (advisor.document appends them).

`compare` is imported inside these functions only, when a report carries a comparison (its
results, costs and evidence modules are pydantic models: no torch), so `import advisor` stays
light."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.errors import AdvisorError
from common.errors import describe_validation_error

if TYPE_CHECKING:
    from compare.results import Results


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


def comparison_json(results: Results) -> dict:
    """The results as the JSON report carries them: the evidence first, the arms in order."""
    from compare.view import ordered_arms

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
