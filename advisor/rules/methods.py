"""Which way to fine-tune: LoRA before full fine-tuning, QLoRA when memory forces it, full
fine-tuning only for deep adaptation with lots of data and budget. What fits the user's GPUs is
decided with the estimator in `advisor.sizing`, after these rules."""
from __future__ import annotations

from functools import partial

from advisor.answers import Answers
from advisor.rules.base import SEED_002, SEED_003, Outcome, rule

# These rules only rank the fine-tuning methods: their reasons show when fine-tuning wins.
method_rule = partial(rule, finetune_only=True)

DEEP_ADAPTATION_EXAMPLES = 10_000
DEEP_ADAPTATION_BUDGET_USD = 5_000.0


def _wants_finetuning(a: Answers) -> bool:
    """There is something to train on (these rules rank methods, not whether to fine-tune)."""
    return a.labeled_examples + a.preference_pairs > 0


@method_rule(
    "lora_before_full",
    SEED_002,
    "When RAG isn't enough, LoRA before full fine-tune · always (and seed 001: LoRA / QLoRA is "
    "the default for most production use cases)",
    correction="Seed 001 puts LoRA at \"1-5% of the compute cost\" and seed 002 at \"10-100x "
    "cheaper\". Per token LoRA still runs the whole forward pass and back-propagates through "
    "every frozen layer: about 4N FLOPs against 6N for full fine-tuning (N = parameters), i.e. "
    "~2/3 of the compute. What it saves is memory (no gradients or optimizer states for the "
    "frozen weights), so it needs fewer or smaller GPUs, and storage (a small adapter per task).",
)
def lora_before_full(a: Answers) -> Outcome | None:
    if not _wants_finetuning(a):
        return None
    return Outcome(
        "LoRA trains a small adapter on frozen weights: far cheaper than full fine-tuning, "
        "reversible, and close in quality for most tasks.",
        ["needs", "labeled_examples"],
        {"full_finetune": -1.5},
    )


@method_rule(
    "lora_all_linear_targets",
    SEED_003,
    "LoRA (Low-Rank Adaptation): add small rank-decomposed matrices to attention layers",
    correction="Attention-only is the original LoRA paper's setting, not today's practice: the "
    "QLoRA paper (Dettmers et al., 2023) found adapters on all linear layers (attention and "
    "MLP) were needed to match full fine-tuning, and peft's `target_modules=\"all-linear\"` "
    "does that. The advisor sizes adapters on all linear layers. Which also corrects seeds 002 "
    "and 004's \"rank 16 updates less than 0.1% of the parameters\": that holds for q/v only; "
    "rank 16 on all linear layers of Llama 3.1 8B is 41,943,040 parameters, 0.52%.",
)
def lora_all_linear_targets(a: Answers) -> Outcome | None:
    if not _wants_finetuning(a):
        return None
    return Outcome(
        "Put the LoRA adapters on all linear layers (attention and MLP), not only attention: "
        "that is what matches full fine-tuning quality.",
        ["needs"],
        {},
    )


@method_rule(
    "qlora_trades_quality_for_memory",
    SEED_002,
    "QLoRA adds NF4 quantization of the frozen base to run fine-tuning on single-GPU setups · "
    "degrades quality ~1-2 points",
    correction="Seed 004 says QLoRA fits a 70B model \"on a single consumer-grade GPU with "
    "24GB VRAM\". It does not: 70B parameters at 4 bits are ~33 GiB (35 GB) of weights alone, "
    "plus quantization constants, 16-bit embeddings, adapters, activations and the CUDA "
    "context; the QLoRA paper's own claim is a single 48 GB GPU for 65B. The estimator sizes "
    "it.",
)
def qlora_trades_quality_for_memory(a: Answers) -> Outcome | None:
    if not _wants_finetuning(a):
        return None
    return Outcome(
        "QLoRA quantizes the frozen base to 4 bits: it needs far less memory but costs ~1-2 "
        "quality points and runs slower, so it is chosen when LoRA does not fit your GPUs or "
        "budget.",
        ["gpu", "gpu_count", "budget_usd"],
        {"qlora": -0.5},
    )


@method_rule(
    "full_for_deep_adaptation",
    SEED_003,
    "Full fine-tuning | High [cost] | Deep domain adaptation (and seed 004: full fine-tuning "
    "produces the highest quality adaptation but needs thousands to tens of thousands of "
    "examples and significant compute)",
)
def full_for_deep_adaptation(a: Answers) -> Outcome | None:
    big_budget = a.budget_usd is None or a.budget_usd >= DEEP_ADAPTATION_BUDGET_USD
    if (
        a.labeled_examples < DEEP_ADAPTATION_EXAMPLES
        or a.domain_coverage == "common"
        or a.keep_general_skills
        or not big_budget
        or not _wants_finetuning(a)
    ):
        return None
    return Outcome(
        f"{a.labeled_examples:,} examples in a {a.domain_coverage} domain, a budget of "
        f"{_money(a.budget_usd)} and no need to keep general skills: a deep domain adaptation "
        "where full fine-tuning can pay off.",
        ["labeled_examples", "domain_coverage", "budget_usd", "keep_general_skills"],
        {"full_finetune": 3.0},
    )


@method_rule(
    "catastrophic_forgetting",
    SEED_002,
    "Catastrophic forgetting is the main risk · mitigate with low learning rates (1e-5), "
    "limited epochs (1-3), and mixing general-purpose data into the training set",
    correction="1e-5 is a full fine-tuning learning rate. LoRA adapters train at about 1e-4 to "
    "2e-4 (the LoRA and QLoRA papers' settings); use the low end, 1-3 epochs and mixed-in "
    "general data. LoRA also forgets less than full fine-tuning (Biderman et al., 2024, "
    "\"LoRA Learns Less and Forgets Less\").",
)
def catastrophic_forgetting(a: Answers) -> Outcome | None:
    if not a.keep_general_skills or not _wants_finetuning(a):
        return None
    return Outcome(
        "General skills must survive: prefer LoRA (it forgets less than full fine-tuning), "
        "a low learning rate, 1-3 epochs, and general-purpose examples mixed into the data.",
        ["keep_general_skills"],
        {"full_finetune": -2.0, "lora": 0.5, "qlora": 0.5},
        ["Catastrophic forgetting: keep the learning rate low (1e-5 full, 1e-4 LoRA), train 1-3 "
         "epochs, mix ~10-20% general-purpose examples into the data, and evaluate general "
         "skills before and after."],
    )


def _money(usd: float | None) -> str:
    return "no limit" if usd is None else f"${usd:,.0f}"

