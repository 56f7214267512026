"""Facts: fresh, private or cited facts are served by retrieval (RAG), not trained in."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.rules.base import Outcome, finetune, rule

_CHANGE_WEIGHT = {"daily": 3.0, "weekly": 3.0, "monthly": 2.5, "yearly": 1.0, "never": 0.0}
_EVERY = {"daily": "every day", "weekly": "every week", "monthly": "every month", "yearly": "about once a year"}
# A need for fresh facts decides even when the update answer says otherwise ("never"): it weighs
# as much as weekly updates, and a prompt cannot carry facts that change.
FRESH_FACTS_WEIGHT = 3.0


@rule(
    "rag_for_changing_facts",
    "geo-glossary",
    "Retrieval reflects new information as soon as its source is updated; what a fine-tuned "
    "model knows is fixed when it is trained.",
)
def rag_for_changing_facts(a: Answers) -> Outcome | None:
    weight = _CHANGE_WEIGHT[a.knowledge_update]
    wants_fresh = "fresh_facts" in a.needs
    if wants_fresh:
        weight = max(weight, FRESH_FACTS_WEIGHT)
    if weight == 0:
        return None
    if wants_fresh:
        when = f" ({_EVERY[a.knowledge_update]})" if a.knowledge_update != "never" else ""
        what = f"You need answers from facts that change{when}"
    else:
        what = f"The knowledge changes {_EVERY[a.knowledge_update]}"
    return Outcome(
        f"{what}: with RAG an update is a re-index, while a model's own knowledge is frozen at "
        "training time.",
        [f for f in ("needs", "knowledge_update")
         if (f == "needs" and wants_fresh) or (f == "knowledge_update" and a.knowledge_update != "never")],
        {"rag": weight, "prompting": -1.5 if weight >= 2 else 0.0},
    )


@rule(
    "rag_for_private_docs",
    "ai-search-glossary",
    "When answers must come only from your own documents, retrieval is the tool.",
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
    "geo-glossary",
    "Retrieval's strengths are factual accuracy and answers that can be traced to their source.",
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
    "ai-search-glossary",
    "Retrieval is the tool when missing facts are the bottleneck.",
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
    "ai-search-glossary",
    "A model fine-tuned to know a set of documents keeps answering from them after they change; "
    "a live index would have kept up (its anti-pattern example).",
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
