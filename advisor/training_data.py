"""What a fine-tuning job could learn from: demonstrations (SFT), chosen/rejected pairs (DPO),
or labels a large model writes for real traffic (distillation); and so which recipe runs.

- Demonstrations train SFT; with enough preference pairs too, SFT runs first and DPO refines it
  (the DPO paper starts from an SFT model).
- Pairs alone train DPO only on a model that already follows instructions (an instruct release)
  and with at least MIN_DPO_PAIRS of them (OpenPipe asks for 500 rows before a DPO run); fewer
  pairs, or a base model, and the pairs are an evaluation set for now.
- Pairs shape behaviour: a need that is only knowledge or cost gives DPO nothing to prefer.
"""
from __future__ import annotations

from advisor.answers import Answers
from advisor.catalog import is_instruct
from advisor.distill import distillation

ENOUGH_EXAMPLES = 1_000  # "~1K-10K high-quality examples for most tasks" (layered glossary)
FEW_EXAMPLES = 200  # below this, a few dozen: few-shot examples and an evaluation set
MIN_DPO_PAIRS = 500  # OpenPipe's DPO quick start: at least 500 rows before training
HUGE_DATASET = 100_000  # where cleaning beats adding (enterprise glossary: 1K clean > 100K noisy)


def pairs_shape_a_behaviour(a: Answers) -> bool:
    return bool(a.behaviour_needs())


def dpo_on_pairs_alone(a: Answers) -> bool:
    """Pairs are the training data (too few demonstrations for SFT) and DPO can use them."""
    return (a.labeled_examples < FEW_EXAMPLES and a.preference_pairs >= MIN_DPO_PAIRS
            and is_instruct(a.model) and pairs_shape_a_behaviour(a))


def sft_then_dpo(a: Answers) -> bool:
    """Demonstrations for SFT and enough pairs for a DPO stage after it."""
    return (distillation(a) is None and a.labeled_examples >= FEW_EXAMPLES
            and a.preference_pairs >= MIN_DPO_PAIRS and pairs_shape_a_behaviour(a))


def choose_recipe(a: Answers) -> str:
    return "dpo" if distillation(a) is None and dpo_on_pairs_alone(a) else "sft"


def training_count(a: Answers, recipe: str) -> int:
    """What the (first) stage trains on: pairs for DPO, labels when distilling, else examples."""
    if recipe == "dpo":
        return a.preference_pairs
    plan = distillation(a)
    return plan.labels if plan is not None else a.labeled_examples


def data_kind(a: Answers, recipe: str) -> str:
    return "pairs" if recipe == "dpo" else "labels" if distillation(a) is not None else "examples"


def has_training_data(a: Answers) -> bool:
    """Something a job could train on now (or label from traffic)."""
    return a.labeled_examples > 0 or dpo_on_pairs_alone(a) or distillation(a) is not None


def count_words(n: int, kind: str) -> str:
    """`5,000 examples`, `1 pair`, `10,000 labels`."""
    singular = {"examples": "example", "pairs": "pair", "labels": "label"}[kind]
    return f"{n:,} {singular if n == 1 else kind}"
