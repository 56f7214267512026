"""Which way to fine-tune: LoRA before full fine-tuning, QLoRA when memory forces it, full
fine-tuning for deep adaptation with lots of data. What fits the user's GPUs, and what the
budget can pay for, is decided with the estimator in `advisor.sizing`, after these rules."""
from __future__ import annotations

from functools import partial

from advisor.answers import Answers
from advisor.rules.base import Outcome, rule
from advisor.training_data import has_training_data

# These rules only rank the fine-tuning methods: their reasons show when fine-tuning wins.
method_rule = partial(rule, finetune_only=True)

DEEP_ADAPTATION_EXAMPLES = 10_000


@method_rule(
    "lora_before_full",
    "layered-glossary",
    "When retrieval is not enough, try LoRA before full fine-tuning, always.",
    correction="The AI-search glossary puts LoRA at \"1-5% of the compute\" and the layered one at "
    "\"10-100x cheaper\". Per token LoRA still runs the whole forward pass and back-propagates "
    "through every frozen layer: about 4N FLOPs against 6N for full fine-tuning (N = parameters), "
    "i.e. ~2/3 of the compute. What it saves is memory (no gradients or optimizer states for the "
    "frozen weights), so it needs fewer or smaller GPUs, and storage (a small adapter per task).",
    correction_source="scaling-laws",
)
def lora_before_full(a: Answers) -> Outcome | None:
    if not has_training_data(a):
        return None
    return Outcome(
        "LoRA trains a small adapter on frozen weights: it needs far less GPU memory than full "
        "fine-tuning (no gradients or optimizer states for the frozen weights), can be undone, "
        "and comes close in quality for most tasks.",
        ["needs", "labeled_examples"],
        {"full_finetune": -1.5},
    )


@method_rule(
    "lora_all_linear_targets",
    "study-notes",
    "LoRA adds small low-rank matrices to the attention layers.",
    correction="Attention-only is the original LoRA paper's setting, not today's practice: the "
    "QLoRA paper found adapters on all linear layers (attention and MLP) were needed to match "
    "full fine-tuning, and peft's `target_modules=\"all-linear\"` does that. The advisor sizes "
    "adapters on all linear layers. That also corrects the layered and enterprise glossaries' "
    "\"rank 16 updates less than 0.1% of the parameters\": that holds for q/v only; rank 16 on "
    "all linear layers of Llama 3.1 8B is 41,943,040 parameters, 0.52%.",
    correction_source="qlora-paper",
)
def lora_all_linear_targets(a: Answers) -> Outcome | None:
    if not has_training_data(a):
        return None
    return Outcome(
        "Put the LoRA adapters on all linear layers (attention and MLP), not only attention: "
        "that is what matches full fine-tuning quality.",
        ["needs"],
        {},
    )


@method_rule(
    "qlora_when_memory_forces_it",
    "layered-glossary",
    "QLoRA quantizes the frozen base to 4-bit NF4 so that one GPU can fine-tune it, at the price "
    "of about one or two quality points.",
    correction="The QLoRA paper found 4-bit NF4 with double quantization matched 16-bit LoRA and "
    "full fine-tuning on its benchmarks; the price is mostly speed: every step dequantizes the "
    "weights (the estimator counts 1.6x the LoRA time, after LitGPT's measurements). And the "
    "enterprise glossary's \"a 70B model on a single 24 GB GPU\" does not hold: 70B parameters "
    "at 4 bits are ~33 GiB of weights alone, before quantization constants, 16-bit embeddings, "
    "adapters, activations and the CUDA context; the paper's own claim is 65B on one 48 GB GPU.",
    correction_source="qlora-paper",
)
def qlora_when_memory_forces_it(a: Answers) -> Outcome | None:
    if not has_training_data(a):
        return None
    return Outcome(
        "QLoRA quantizes the frozen base to 4 bits: it needs far less memory but each step runs "
        "about 1.6x slower than LoRA, so it is chosen when LoRA does not fit your GPUs or budget.",
        ["gpu", "gpu_count", "budget_usd"],
        {"qlora": -0.5},
    )


@method_rule(
    "full_for_deep_adaptation",
    "study-notes",
    "Full fine-tuning is the costly option, kept for deep domain adaptation.",
    correction="The layered glossary prices a 7B full fine-tune at $5-20K on rented H100s and its "
    "LoRA at $50-500. Cost follows the tokens trained: 10,000 examples of 512 tokens for 2 epochs "
    "(~10M tokens) take about 0.4 H100-hours in full (~$1.24) and 0.3 with LoRA (~$0.94) by the "
    "estimator at 40% utilisation; $5,000 buys ~1,700 H100-hours, tens of billions of tokens. "
    "The advisor compares each method's estimated cost with your budget instead of a price list.",
    correction_source="estimator",
)
def full_for_deep_adaptation(a: Answers) -> Outcome | None:
    # Deep adaptation is domain vocabulary and reasoning; a format, a tone or one narrow task is
    # what LoRA is for (the study notes' table puts style, format and vocabulary under LoRA).
    if (a.labeled_examples < DEEP_ADAPTATION_EXAMPLES or a.domain_coverage == "common"
            or a.keep_general_skills or "specialized_reasoning" not in a.needs):
        return None
    return Outcome(
        f"{a.labeled_examples:,} examples of specialised reasoning in a {a.domain_coverage} domain "
        "and no need to keep general skills: a deep domain adaptation where full fine-tuning can pay off (its "
        "estimated cost is compared with your budget below).",
        ["labeled_examples", "domain_coverage", "needs", "keep_general_skills"],
        {"full_finetune": 3.0},
    )


@method_rule(
    "catastrophic_forgetting",
    "layered-glossary",
    "Forgetting general skills is the main risk of fine-tuning: keep learning rates low, epochs "
    "few (1-3) and general-purpose data mixed in.",
    correction="1e-5 is a full fine-tuning learning rate. LoRA adapters train at about 1e-4 to "
    "2e-4 (the LoRA and QLoRA papers' settings); use the low end, 1-3 epochs and mixed-in "
    "general data. LoRA also forgets less than full fine-tuning (Biderman et al., 2024).",
    correction_source="lora-forgets-less",
)
def catastrophic_forgetting(a: Answers) -> Outcome | None:
    if not a.keep_general_skills or not has_training_data(a):
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
