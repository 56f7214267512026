"""Data: how many good examples (or preference pairs) there are, and how well the base model
knows the domain."""
from __future__ import annotations

from advisor.answers import Answers
from advisor.rules.base import SEED_002, SEED_004, Outcome, finetune, merge, rule

# Seed 002: "Need ~1K-10K high-quality examples for most tasks".
ENOUGH_EXAMPLES = 1_000
FEW_EXAMPLES = 200  # below this, "a few dozen": too few to fine-tune on
MIN_DPO_PAIRS = 500
HUGE_DATASET = 100_000


def training_examples(a: Answers) -> int:
    """What a fine-tuning run could train on: SFT examples or DPO pairs, whichever is larger."""
    return max(a.labeled_examples, a.preference_pairs)


@rule(
    "examples_needed",
    SEED_002,
    "Need ~1K-10K high-quality examples for most tasks",
)
def examples_needed(a: Answers) -> Outcome | None:
    n = training_examples(a)
    fields = ["labeled_examples", "preference_pairs"] if a.preference_pairs else ["labeled_examples"]
    if n >= ENOUGH_EXAMPLES:
        return Outcome(
            f"{n:,} training examples: enough to fine-tune (most tasks need about 1K-10K good ones).",
            fields,
            finetune(2.0),
        )
    if n >= FEW_EXAMPLES:
        return Outcome(
            f"{n:,} training examples: a start, below the ~1K most tasks need.",
            fields,
            finetune(0.5),
            [f"Only {n:,} examples: collect and check more (aim for ~1K) before relying on a "
             "fine-tuned model."],
        )
    if n > 0:
        return Outcome(
            f"Only {n:,} examples: a few dozen are too few to fine-tune on; use them as few-shot "
            "examples in the prompt and as an evaluation set.",
            fields,
            merge(finetune(-7.0), {"prompting": 1.5}),
            [f"{n:,} examples are too few to fine-tune (aim for ~1K-10K good ones); prefer "
             "prompting or RAG for now."],
        )
    warn = []
    if a.behaviour_needs():
        warn.append("No training examples: fine-tuning is not possible yet. Start collecting "
                    "input/output pairs (aim for ~1K) while prompting or RAG serves users.")
    return Outcome(
        "No labelled examples or preference pairs: there is nothing to fine-tune on.",
        fields,
        finetune(-12.0),  # a veto: fine-tuning without data is not an option
        warn,
    )


@rule(
    "quality_over_quantity",
    SEED_004,
    "1,000 high-quality, diverse, expert-verified examples outperform 100,000 noisy, "
    "auto-generated examples (and seed 003: data quality > quantity)",
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
    SEED_002,
    "Direct Preference Optimization (DPO) on preference pairs · preferred over RLHF for "
    "alignment because it skips reward modeling",
)
def dpo_for_preference_pairs(a: Answers) -> Outcome | None:
    if a.preference_pairs == 0:
        return None
    if a.preference_pairs < MIN_DPO_PAIRS:
        return Outcome(
            f"{a.preference_pairs:,} preference pairs: too few for DPO to move the model reliably.",
            ["preference_pairs"],
            {},
            [f"Only {a.preference_pairs:,} preference pairs: DPO usually needs several hundred "
             "to thousands; use them for evaluation for now."],
        )
    return Outcome(
        f"{a.preference_pairs:,} preference pairs (chosen vs rejected): DPO trains on them "
        "directly, with no reward model.",
        ["preference_pairs"],
        finetune(1.0),
    )


@rule(
    "domain_coverage",
    SEED_004,
    "Use prompt engineering / RAG when the domain is well-represented in the base model's "
    "training data; fine-tune when it requires highly specialized vocabulary, syntax, or "
    "reasoning patterns not well-represented",
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

