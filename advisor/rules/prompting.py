"""When a prompt is enough, and when it is not."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.rules.base import Outcome, finetune, merge, rule


@rule(
    "try_prompting_first",
    "study-notes",
    "Of prompting, RAG, LoRA and full fine-tuning, prompting costs least, stays updatable and "
    "iterates fastest.",
)
def try_prompting_first(a: Answers) -> Outcome | None:
    if a.prompting_result != "untried":
        return None
    return Outcome(
        "You have not tried prompting yet: a well-written prompt with a few examples costs "
        "nothing and is the quickest to iterate, so it is the first thing to measure.",
        ["prompting_result"],
        {"prompting": 2.0},
    )


@rule(
    "prompting_good_enough",
    "ai-search-glossary",
    "A bounded task that clear instructions can describe needs prompt engineering, not training.",
)
def prompting_good_enough(a: Answers) -> Outcome | None:
    if a.prompting_result != "good_enough":
        return None
    return Outcome(
        "Prompting already gives good enough answers: keep it unless another need (cost, "
        "fresh facts) says otherwise.",
        ["prompting_result"],
        merge({"prompting": 4.0}, finetune(-1.0)),
    )


@rule(
    "prompting_falls_short",
    "enterprise-glossary",
    "Fine-tune when the base model stays unacceptable on the task despite careful prompting, or "
    "when a format must hold across thousands of outputs.",
)
def prompting_falls_short(a: Answers) -> Outcome | None:
    if a.prompting_result not in ("inconsistent", "fails"):
        return None
    strength = 2.5 if a.prompting_result == "fails" else 1.5
    if a.knowledge_needs() and not a.behaviour_needs():
        return Outcome(
            f"Prompting {_RESULT_TEXT[a.prompting_result]}, and what is missing is knowledge, not "
            "behaviour: give the model the facts at query time.",
            ["prompting_result", "needs"],
            {"prompting": -strength, "rag": strength},
        )
    return Outcome(
        f"Prompting {_RESULT_TEXT[a.prompting_result]}: a behaviour the prompt cannot pin down is what "
        "fine-tuning trains into the weights.",
        ["prompting_result"],
        merge({"prompting": -strength}, finetune(strength)),
    )


@rule(
    "exploratory_requirements",
    "enterprise-glossary",
    "While a use case is exploratory and its requirements keep changing, stay with prompts or "
    "retrieval.",
)
def exploratory_requirements(a: Answers) -> Outcome | None:
    if a.requirements_stable:
        return None
    return Outcome(
        "The requirements are still exploratory: a fine-tuned model freezes today's guess, "
        "while a prompt changes in minutes.",
        ["requirements_stable"],
        merge({"prompting": 2.5, "rag": 0.5}, finetune(-4.0)),
        ["Requirements are still changing: collect examples as you go and revisit "
         "fine-tuning once the task is settled."],
    )


@rule(
    "bounded_task",
    "ai-search-glossary",
    "A bounded task that clear instructions can describe needs prompt engineering, not training.",
)
def bounded_task(a: Answers) -> Outcome | None:
    if a.needs and not (a.needs == ["task_skill"] and a.domain_coverage == "common"):
        return None
    what = "No behaviour or knowledge gap was named" if not a.needs else (
        "A narrow task in a domain the model knows well"
    )
    return Outcome(
        f"{what}: clear instructions in a prompt usually suffice.",
        ["needs", "domain_coverage"] if a.needs else ["needs"],
        {"prompting": 1.5},
    )


# Plain words for the prompting result, used in reason sentences.
_RESULT_TEXT = {
    "untried": "has not been tried",
    "good_enough": "is good enough",
    "inconsistent": "is inconsistent",
    "fails": "fails even with careful prompts",
}
