"""Running it: per-query cost at volume, distilling a large prompted model into a small one,
and where the data may go."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.catalog import model_spec
from advisor.distill import distillation
from advisor.rules.base import Outcome, finetune, rule
from advisor.text import duration

HIGH_VOLUME_QPD = 10_000
VERY_HIGH_VOLUME_QPD = 100_000


@rule(
    "smaller_model_for_cost",
    "enterprise-glossary",
    "A smaller model fine-tuned for the task can match a much larger base model on it, cutting "
    "the cost of every query.",
)
def smaller_model_for_cost(a: Answers) -> Outcome | None:
    wants = "cost_latency" in a.needs
    if not wants and a.queries_per_day < HIGH_VOLUME_QPD:
        return None
    delta = 2.0 if wants else 0.0
    if a.queries_per_day >= VERY_HIGH_VOLUME_QPD:
        delta += 2.0
    elif a.queries_per_day >= HIGH_VOLUME_QPD:
        delta += 1.0
    volume = f"{a.queries_per_day:,} queries a day" if a.queries_per_day else "Per-query cost"
    fields = [f for f, on in (("needs", wants), ("queries_per_day", a.queries_per_day > 0)) if on]
    return Outcome(
        f"{volume}: a smaller fine-tuned model with a short prompt can match a larger model "
        "on your task at a fraction of the cost and latency per query; training is paid once.",
        fields,
        finetune(delta),
    )


@rule(
    "distil_for_cost",
    "distilling-step-by-step",
    "Small models trained on a large model's answers for one task can match or beat that large "
    "model, with a fraction of its compute per query.",
)
def distil_for_cost(a: Answers) -> Outcome | None:
    plan = distillation(a)
    if plan is None:
        return None
    ratio = model_spec(plan.teacher).param_count() / model_spec(plan.student).param_count()
    traffic = (f" (about {duration(plan.traffic_hours)} of your traffic)"
               if plan.traffic_hours is not None else "")
    return Outcome(
        f"Prompting {plan.teacher} works but costs too much per query: distil it. Answer "
        f"{plan.labels:,} real queries{traffic} with it, check a sample, and fine-tune "
        f"{plan.student} (about {ratio:.0f}x smaller) on those labels.",
        ["needs", "prompting_result", "model", "queries_per_day"],
        finetune(3.0),
    )


@rule(
    "on_prem_self_hosted",
    "study-notes",
    "Open-weight models such as Llama are released so organisations can fine-tune and run them "
    "on their own machines.",
)
def on_prem_self_hosted(a: Answers) -> Outcome | None:
    if not a.data_must_stay_on_prem:
        return None
    warnings = []
    if a.gpu is None:
        warnings.append("Data must stay on-prem but no GPU was named: every approach needs a "
                        "self-hosted model; the GPU table below shows which GPUs fit.")
    return Outcome(
        "Data must stay on your machines: use a self-hosted open-weight model (and a local "
        "vector store for RAG); hosted model and fine-tuning APIs are ruled out.",
        ["data_must_stay_on_prem"],
        {},
        warnings,
    )
