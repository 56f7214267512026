"""Facts: fresh, private or cited facts are served by retrieval (RAG), not trained in."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.rules.base import SEED_000, SEED_001, Outcome, finetune, rule

_CHANGE_WEIGHT = {"daily": 3.0, "weekly": 3.0, "monthly": 2.5, "yearly": 1.0, "never": 0.0}


@rule(
    "rag_for_changing_facts",
    SEED_000,
    "RAG: Knowledge freshness — swap the data source and the latest information is reflected "
    "instantly; best suited for frequently changing facts such as today's news or new company "
    "policy",
)
def rag_for_changing_facts(a: Answers) -> Outcome | None:
    weight = _CHANGE_WEIGHT[a.knowledge_update]
    if "fresh_facts" in a.needs:
        weight = max(weight, 2.0)
    if weight == 0:
        return None
    return Outcome(
        f"The knowledge changes ({a.knowledge_update}): with RAG an update is a re-index, "
        "while a model's own knowledge is frozen at training time.",
        [f for f in ("needs", "knowledge_update") if f != "needs" or "fresh_facts" in a.needs],
        {"rag": weight, "prompting": -1.0 if weight >= 2 else 0.0},
    )


@rule(
    "rag_for_private_docs",
    SEED_001,
    "For \"answer using only our docs,\" RAG works",
)
def rag_for_private_docs(a: Answers) -> Outcome | None:
    if "private_knowledge" not in a.needs:
        return None
    return Outcome(
        "Answers must come from your private knowledge base: the base model has never seen it "
        "and a prompt cannot hold all of it, so retrieve the relevant passages and let the "
        "model answer from them.",
        ["needs"],
        {"rag": 3.0, "prompting": -1.5},
    )


@rule(
    "rag_for_citations",
    SEED_000,
    "RAG strengths: factual accuracy and source traceability on knowledge-intensive tasks",
)
def rag_for_citations(a: Answers) -> Outcome | None:
    if not a.citations_required:
        return None
    return Outcome(
        "Answers must cite sources: only retrieval can point at the passage an answer came "
        "from; weights cannot.",
        ["citations_required"],
        {"rag": 2.5},
    )


@rule(
    "rag_needs_a_knowledge_gap",
    SEED_001,
    "RAG when factual knowledge is the bottleneck (e.g., grounded answers from a knowledge base)",
)
def rag_needs_a_knowledge_gap(a: Answers) -> Outcome | None:
    if a.knowledge_needs() or a.citations_required or a.knowledge_update in ("monthly", "weekly", "daily"):
        return None
    return Outcome(
        "No facts are missing (no fresh or private knowledge, no citations): retrieval would "
        "have nothing to add.",
        ["needs", "citations_required", "knowledge_update"],
        {"rag": -3.0},
    )


@rule(
    "facts_are_not_finetuned",
    SEED_001,
    "Anti-pattern: fine-tuning when RAG was the answer. A team fine-tunes a model to \"know\" "
    "their product docs. Six months later, the docs change — and the fine-tuned model is stuck "
    "with stale knowledge (and seed 002: most teams reaching for fine-tuning should reach for "
    "better RAG first)",
)
def facts_are_not_finetuned(a: Answers) -> Outcome | None:
    if not a.knowledge_needs() or a.behaviour_needs() or "cost_latency" in a.needs:
        return None
    return Outcome(
        "Only knowledge is missing, no behaviour: fine-tuning facts into weights goes stale "
        "and cannot cite; reach for RAG first.",
        ["needs"],
        finetune(-2.5),
    )

