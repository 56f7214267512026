"""Behaviours (tone, format, specialised reasoning, task skills, alignment) are what
fine-tuning trains into the weights; facts are better looked up (see knowledge.py)."""
from __future__ import annotations

from advisor.answers import NEED_LABELS, Answers
from advisor.rules.base import Outcome, finetune, merge, rule

_INTERNALISED = ("tone_style", "output_format", "specialized_reasoning")


@rule(
    "finetune_internalises_behaviour",
    "geo-glossary",
    "Fine-tuning fits when tone, output format or specialised reasoning should become part of "
    "the model itself.",
)
def finetune_internalises_behaviour(a: Answers) -> Outcome | None:
    hits = [n for n in a.needs if n in _INTERNALISED]
    if not hits:
        return None
    names = "; ".join(NEED_LABELS[n].split(" (")[0].lower() for n in hits)
    return Outcome(
        f"You need {names}: fine-tuning makes that the model's default instead of a long "
        "prompt it may not follow every time.",
        ["needs"],
        finetune(1.5 * len(hits)),
    )


@rule(
    "task_skill_finetune",
    "enterprise-glossary",
    "Classifying documents and extracting structured fields from proprietary formats are tasks "
    "to fine-tune for.",
)
def task_skill_finetune(a: Answers) -> Outcome | None:
    if "task_skill" not in a.needs:
        return None
    return Outcome(
        "A narrow task skill (classification, extraction) is learned reliably from labelled "
        "examples.",
        ["needs"],
        finetune(1.0),
    )


@rule(
    "alignment_finetune",
    "ai-search-glossary",
    "Behaviour rules are shaped by alignment fine-tuning: SFT on demonstrations, then preference "
    "training (RLHF or DPO).",
)
def alignment_finetune(a: Answers) -> Outcome | None:
    if "alignment" not in a.needs:
        return None
    return Outcome(
        "Behaviour rules (refusals, disclaimers, preferred answers) that must hold on every "
        "answer are trained in with SFT, or DPO when you have preference pairs; a system "
        "prompt covers the simple ones.",
        ["needs"],
        merge(finetune(1.5), {"prompting": 0.5}),
    )


@rule(
    "hybrid_style_and_facts",
    "ai-search-glossary",
    "Most production deployments end up combining the two: fine-tune for style, retrieve for "
    "facts.",
)
def hybrid_style_and_facts(a: Answers) -> Outcome | None:
    behaviour = [n for n in a.needs if n in _INTERNALISED or n == "alignment"]
    facts = a.knowledge_needs() or (["citations_required"] if a.citations_required else [])
    if not behaviour or not facts:
        return None
    return Outcome(
        "You need both a behaviour and facts: fine-tune for the behaviour and retrieve the "
        "facts at query time (the hybrid).",
        ["needs"] + (["citations_required"] if a.citations_required else []),
        merge({"rag": 0.5}, finetune(0.5)),
    )
