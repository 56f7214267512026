"""Which adapters a comparison trains, and which fine-tuned arm each answers for.

`finetune.train_prompts` = separate (the default) trains one adapter per fine-tuned arm, each on
the prompts its arm sends: `train/` (bare questions) for `finetuned`, `train_rag/` (the question
with its retrieved passages) for `finetuned_rag`. bare, retrieval or mix train one adapter,
`train/`, for both (compare.finetune_setup writes the rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compare import files
from compare.spec import FINETUNED_ARMS, AdapterPrompts

if TYPE_CHECKING:
    from compare.spec import CompareSpec


@dataclass(frozen=True)
class Adapter:
    """One adapter the comparison trains: its sub-run folder (and record, data file), its prompts,
    and the fine-tuned arms it answers for."""

    name: str  # train | train_rag: the stage, the sub-run folder and <name>.json
    prompts: AdapterPrompts
    arms: tuple[str, ...]

    @property
    def data_file(self) -> str:
        return files.train_data(self.name)

    @property
    def record_file(self) -> str:
        return files.train_record(self.name)


def adapters(spec: CompareSpec) -> list[Adapter]:
    """The adapters `spec` trains, in stage order (none without a fine-tuned arm)."""
    tuned = [arm for arm in spec.arms if arm in FINETUNED_ARMS]
    mode = spec.finetune.train_prompts
    if not tuned:
        return []
    if mode != "separate":
        return [Adapter("train", mode if "finetuned_rag" in tuned else "bare", tuple(tuned))]
    planned = [Adapter("train", "bare", ("finetuned",))] if "finetuned" in tuned else []
    return planned + ([Adapter("train_rag", "retrieval", ("finetuned_rag",))] if "finetuned_rag" in tuned else [])


def adapter_for(spec: CompareSpec, arm: str) -> Adapter:
    return next(adapter for adapter in adapters(spec) if arm in adapter.arms)


def adapter_named(spec: CompareSpec, name: str) -> Adapter:
    return next(adapter for adapter in adapters(spec) if adapter.name == name)


def trains_on_retrieval(spec: CompareSpec) -> bool:
    """Whether training rows hold retrieval prompts (then the index stage retrieves for them too)."""
    return any(adapter.prompts != "bare" for adapter in adapters(spec))
