"""Data: how many good demonstrations or preference pairs there are, whether DPO can use the
pairs, and how well the base model knows the domain. What counts as training data, and which
recipe runs, is decided in `advisor.training_data`."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.catalog import instruct_variant, is_instruct
from advisor.distill import distillation
from advisor.rules.base import FINETUNE, Outcome, finetune, merge, rule
from advisor.training_data import (
    ENOUGH_EXAMPLES,
    FEW_EXAMPLES,
    HUGE_DATASET,
    MIN_DPO_PAIRS,
    dpo_on_pairs_alone,
    pairs_shape_a_behaviour,
)


@rule(
    "examples_needed",
    "layered-glossary",
    "Most tasks need roughly one to ten thousand good examples to fine-tune on.",
)
def examples_needed(a: Answers) -> Outcome | None:
    n = a.labeled_examples
    if distillation(a) is not None or (n == 0 and dpo_on_pairs_alone(a)):
        return None  # the labels come from traffic, or the pairs are the data (see the DPO rule)
    if n >= ENOUGH_EXAMPLES:
        return Outcome(
            f"{n:,} examples: enough to fine-tune (most tasks need about 1K-10K good ones).",
            ["labeled_examples"],
            finetune(2.0),
        )
    if n >= FEW_EXAMPLES:
        return Outcome(
            f"{n:,} examples: a start, below the ~1K most tasks need.",
            ["labeled_examples"],
            finetune(0.5),
            [f"Only {n:,} examples: collect and check more (aim for ~1K) before relying on a "
             "fine-tuned model."],
        )
    if n > 0:
        return Outcome(
            f"Only {n:,} examples: a few dozen are too few to fine-tune on; use them as few-shot "
            "examples in the prompt and as an evaluation set.",
            ["labeled_examples"],
            merge(finetune(-7.0), {"prompting": 1.5}),
            [f"{n:,} examples are too few to fine-tune (aim for ~1K-10K good ones); prefer "
             "prompting or RAG for now."],
        )
    warn = []
    if a.behaviour_needs():
        warn.append("No demonstrations: fine-tuning is not possible yet. Start collecting "
                    "input/output examples (aim for ~1K) while prompting or RAG serves users.")
    pairs = " (and no preference pairs DPO could use)" if a.preference_pairs else ""
    return Outcome(
        f"No demonstrations{pairs}: there is nothing to fine-tune on.",
        ["labeled_examples", "preference_pairs"] if a.preference_pairs else ["labeled_examples"],
        {},
        warn,
        rules_out=list(FINETUNE),
    )


@rule(
    "quality_over_quantity",
    "enterprise-glossary",
    "A thousand clean, expert-checked examples beat a hundred thousand noisy generated ones, and "
    "near-duplicates skew what a model learns.",
)
def quality_over_quantity(a: Answers) -> Outcome | None:
    if a.labeled_examples < HUGE_DATASET:
        return None
    return Outcome(
        f"{a.labeled_examples:,} examples: more data helps only if it is clean; quality beats "
        "quantity.",
        ["labeled_examples"],
        {},
        ["With this many examples, check quality first: deduplicate (near-duplicates bias the "
         "model) and drop noisy, auto-generated pairs; `ftadvisor data check` reports both."],
    )


@rule(
    "dpo_for_preference_pairs",
    "dpo-paper",
    "DPO learns from chosen/rejected pairs directly, with no reward model, starting from a model "
    "already tuned to follow instructions.",
    correction="The layered glossary counts preference pairs among the ~1K-10K training examples. "
    "They are a different kind of data: pairs say which of two answers is better and train DPO "
    "(or an evaluation), not SFT. A DPO run needs a model that already follows instructions and "
    "enough pairs: at least 500 (OpenPipe's minimum before a DPO run).",
    correction_source="openpipe-dpo",
)
def dpo_for_preference_pairs(a: Answers) -> Outcome | None:
    n = a.preference_pairs
    if n == 0:
        return None
    fields = ["preference_pairs"]
    if distillation(a) is not None:
        return Outcome(
            f"{n:,} preference pairs: the distilled model learns from the large model's labels; "
            "keep the pairs to evaluate it against the chosen answers.",
            fields + ["needs"],
        )
    if not pairs_shape_a_behaviour(a):
        return Outcome(
            f"{n:,} preference pairs, but no behaviour is asked for: pairs teach which answer is "
            "better, not facts or cheaper serving. Keep them to evaluate answers.",
            fields + ["needs"],
        )
    if n < MIN_DPO_PAIRS:
        return Outcome(
            f"{n:,} preference pairs: too few for DPO to move the model reliably.",
            fields,
            {},
            [f"Only {n:,} preference pairs: DPO needs at least {MIN_DPO_PAIRS} (more is better); "
             "keep them as an evaluation set (does each answer match the chosen one?) and "
             "collect more."],
        )
    if a.labeled_examples >= FEW_EXAMPLES:
        return Outcome(
            f"{n:,} preference pairs after SFT on {a.labeled_examples:,} examples: a DPO stage "
            "then refines the fine-tuned model towards the chosen answers.",
            fields + ["labeled_examples"],
            finetune(0.5),
        )
    if not is_instruct(a.model):
        other = instruct_variant(a.model)
        switch = f"use its instruct release ({other})" if other else "use an instruct model"
        return Outcome(
            f"{n:,} preference pairs and no demonstrations, but {a.model} is a base model: DPO "
            "starts from a model that already follows instructions.",
            fields + ["model"],
            {},
            [f"DPO on pairs alone needs an instruct model: {switch}, or collect demonstrations "
             "for SFT first. Until then keep the pairs to evaluate prompts."],
        )
    return Outcome(
        f"{n:,} preference pairs (chosen vs rejected) on an instruct model: DPO trains on them "
        "directly, with no reward model.",
        fields + ["model"],
        finetune(2.5 if n >= ENOUGH_EXAMPLES else 1.5),
    )


@rule(
    "domain_coverage",
    "enterprise-glossary",
    "Prompts and retrieval are enough where the base model knows the domain; fine-tune for "
    "vocabulary, syntax or reasoning it has rarely seen.",
)
def domain_coverage(a: Answers) -> Outcome | None:
    if a.domain_coverage == "common":
        return Outcome(
            "The base model knows the domain well: it has little to learn from fine-tuning.",
            ["domain_coverage"],
            {"prompting": 1.0},
        )
    delta = 1.0 if a.domain_coverage == "proprietary" else 0.5
    return Outcome(
        f"The domain is {a.domain_coverage}: the base model has seen little of its vocabulary "
        "and patterns.",
        ["domain_coverage"],
        finetune(delta),
    )
