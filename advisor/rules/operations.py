"""Running it: per-query cost at volume, and where the data may go."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.rules.base import SEED_000, SEED_004, Outcome, finetune, rule

HIGH_VOLUME_QPD = 10_000
VERY_HIGH_VOLUME_QPD = 100_000


@rule(
    "smaller_model_for_cost",
    SEED_004,
    "Inference cost reduction is important: fine-tuned smaller models can match the task "
    "performance of much larger base models, reducing cost per inference significantly (and "
    "seed 000: a smaller model can stand in for a larger one's performance)",
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
    volume = f"{a.queries_per_day:,} queries a day" if a.queries_per_day else "per-query cost"
    fields = [f for f, on in (("needs", wants), ("queries_per_day", a.queries_per_day > 0)) if on]
    return Outcome(
        f"{volume}: a smaller fine-tuned model with a short prompt can match a larger model "
        "on your task at a fraction of the cost and latency per query; training is paid once.",
        fields,
        finetune(delta),
    )


@rule(
    "on_prem_self_hosted",
    SEED_000,
    "OpenAI has indicated that it is gradually winding down its own fine-tuning platform, so "
    "provider-specific policy shifts are worth weighing (and seed 003: Meta's LLaMA models are "
    "released as open weights specifically so organisations can fine-tune them)",
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

