"""How the advisor writes figures and names for a reader: money (cents below a dollar), hours
(days and years when long), memory, method names and where a job runs."""
from __future__ import annotations

from common.vocabulary import APPROACH_LABELS, APPROACH_METHOD, METHOD_LABELS, SHARDING


def money(usd: float | None) -> str:
    """`$12,400`, `$37.50`, `42 cents`, `under 1 cent`, `$0`, `-` when unknown."""
    if usd is None:
        return "-"
    if usd == 0:
        return "$0"
    if usd >= 100:
        return f"${usd:,.0f}"
    if usd >= 1:
        return f"${usd:,.2f}"
    cents = usd * 100
    return "under 1 cent" if cents < 0.5 else f"{cents:.0f} cent" + ("" if round(cents) == 1 else "s")


def duration(hours: float | None) -> str:
    """`12 minutes`, `3.4 hours`, `5 days`, `2.3 years`."""
    if hours is None:
        return "-"
    if hours < 1:
        return f"{max(1, round(hours * 60))} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    days = hours / 24
    return f"{days:,.0f} days" if days < 730 else f"{days / 365:,.1f} years"


def hours(value: float | None) -> str:
    """For tables: `0.42`, `37`, `8,760`."""
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:,.0f}"


def gib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def method_label(method: str) -> str:
    """`LoRA`, `QLoRA`, `Full fine-tuning`, `Serving` (sentence start)."""
    return capitalized(METHOD_LABELS[method])


def approach_method_label(approach: str) -> str:
    return method_label(APPROACH_METHOD[approach]) if approach in APPROACH_METHOD else APPROACH_LABELS[approach]


def sharding_words(sharding: str, gpus: int) -> str:
    """`DDP, a full copy on each GPU`, `FSDP full shard`, `ZeRO-3`; `` for one GPU."""
    if gpus <= 1:
        return ""
    label = SHARDING[sharding].label
    return f"{label}, a full copy on each GPU" if sharding == "none" else label


def where(fit) -> str:
    """Where a sized job runs, for sentences: `8 x A100 80GB (80 GiB each), FSDP full shard`,
    `1 x H100 SXM (cheapest rental)`, `any catalog GPU`."""
    if fit.gpu is None:
        return "any catalog GPU"
    out = f"{fit.gpus} x {fit.gpu}"
    if fit.rented:
        out += " (cheapest rental)"
    elif fit.gpu_memory_gib:
        out += f" ({fit.gpu_memory_gib:.0f} GiB each)"
    how = sharding_words(fit.sharding, fit.gpus)
    return f"{out}, {how}" if how else out
