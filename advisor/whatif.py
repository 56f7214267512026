"""What would change the recommendation: re-run the decision (`advisor.decide`) with one answer
changed at a time and keep the changes that flip the result (primary approach, hybrid, recipe,
distillation)."""
from __future__ import annotations

from typing import Any, get_args

from pydantic import ValidationError

from advisor.answers import NEED_LABELS, Answers, DomainCoverage, KnowledgeUpdate, PromptingResult
from advisor.catalog import instruct_variant
from advisor.decide import decide
from advisor.recommendation import Change, Recommendation

MAX_CHANGES = 12
_FLAGS = ("requirements_stable", "citations_required", "keep_general_skills", "data_must_stay_on_prem")


def candidate_changes(a: Answers) -> list[tuple[str, Any]]:
    """One-answer changes worth trying, in questionnaire order."""
    out: list[tuple[str, Any]] = []
    for need in NEED_LABELS:
        toggled = [n for n in a.needs if n != need] if need in a.needs else [*a.needs, need]
        out.append(("needs", toggled))
    out += [("prompting_result", v) for v in get_args(PromptingResult) if v != a.prompting_result]
    out += [(f, not getattr(a, f)) for f in _FLAGS]
    out += [("knowledge_update", v) for v in get_args(KnowledgeUpdate) if v != a.knowledge_update]
    out += [("labeled_examples", v) for v in (0, 50, 2_000, 20_000) if v != a.labeled_examples]
    out += [("preference_pairs", v) for v in (0, 3_000) if v != a.preference_pairs]
    out += [("domain_coverage", v) for v in get_args(DomainCoverage) if v != a.domain_coverage]
    out += [("gpu", v) for v in (None, "RTX 4090", "H100 SXM") if v != a.gpu]
    if a.gpu is not None and a.gpu_count < 8:
        out.append(("gpu_count", 8))
    out += [("budget_usd", v) for v in (None, 100.0, 100_000.0) if v != a.budget_usd]
    out += [("queries_per_day", v) for v in (0, 100_000, 1_000_000) if v != a.queries_per_day]
    instruct = instruct_variant(a.model) if a.preference_pairs else None
    if instruct:
        out.append(("model", instruct))
    return out


def what_would_change_it(a: Answers, rec: Recommendation) -> list[Change]:
    base = a.model_dump()
    seen: set[tuple[str, str]] = set()
    changes: list[Change] = []
    for field, value in candidate_changes(a):
        try:
            changed = Answers.model_validate({**base, field: value})
        except ValidationError:
            continue  # e.g. a GPU missing from a user-edited catalog
        result = decide(changed, explain=False).label()
        if result == rec.label() or (field, result) in seen:
            continue
        seen.add((field, result))
        changes.append(Change(
            field=field, current=getattr(a, field), value=getattr(changed, field), result=result,
            text=f"{describe(field, getattr(a, field), getattr(changed, field))} -> {result}",
        ))
        if len(changes) >= MAX_CHANGES:
            break
    return changes


def describe(field: str, old: Any, new: Any) -> str:
    """`If labeled_examples were 50 (not 5,000)` / `If needs added fresh_facts`."""
    if field == "needs":
        added = [n for n in new if n not in old]
        removed = [n for n in old if n not in new]
        return f"If needs added {added[0]}" if added else f"If needs dropped {removed[0]}"
    return f"If {field} were {_fmt(new)} (not {_fmt(old)})"


def _fmt(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f"{v:,.0f}"
    return str(v)
