"""The comparison's stages, in one table: name, the file whose presence marks it finished, and
the function that runs it (`compare.stages`, one module a stage).

split -> examples -> index -> base -> fewshot -> rag -> train -> finetuned -> train_rag -> finetuned_rag
-> forgetting -> score -> costs -> results (examples: the prompting arms' demonstrations;
train_rag: the hybrid's own adapter, compare.adapters)

An answering stage is an arm (compare.stages.answer, given the arm's name); a training stage is
an adapter (compare.stages.train, given the adapter's name). Importing the plan loads no model
library: the stage modules import torch, transformers, peft and chromadb inside their functions.
"""
from __future__ import annotations

from functools import partial

from compare import files
from compare.adapters import adapters
from compare.pipeline import Stage
from compare.spec import CompareSpec
from compare.stages import answer, costs, examples, forgetting, index, results, score, split, train

STAGES: tuple[Stage, ...] = (
    Stage("split", files.SPLIT, split.run),
    Stage("examples", files.EXAMPLES, examples.run),
    Stage("index", files.RETRIEVAL, index.run),
    Stage("base", files.answers("base"), partial(answer.run, arm="base")),
    Stage("fewshot", files.answers("fewshot"), partial(answer.run, arm="fewshot")),
    Stage("rag", files.answers("rag"), partial(answer.run, arm="rag")),
    Stage("train", files.train_record("train"), partial(train.run, adapter="train")),
    Stage("finetuned", files.answers("finetuned"), partial(answer.run, arm="finetuned")),
    Stage("train_rag", files.train_record("train_rag"), partial(train.run, adapter="train_rag")),
    Stage("finetuned_rag", files.answers("finetuned_rag"), partial(answer.run, arm="finetuned_rag")),
    Stage("forgetting", files.FORGETTING, forgetting.run),
    Stage("score", files.SCORES, score.run),
    Stage("costs", files.COSTS, costs.run),
    Stage("results", files.RESULTS, results.run),
)
BY_NAME: dict[str, Stage] = {stage.name: stage for stage in STAGES}


def planned(spec: CompareSpec) -> list[Stage]:
    """The stages this spec needs, in order."""
    wanted = {"split", "costs", "results", *spec.arms}
    if spec.needs_examples:
        wanted.add("examples")
    if spec.needs_retrieval:
        wanted.add("index")
    if spec.needs_training:
        wanted |= {adapter.name for adapter in adapters(spec)} | {"forgetting"}
    if spec.scoring is not None:
        wanted.add("score")
    return [stage for stage in STAGES if stage.name in wanted]


def planned_stages(spec: CompareSpec) -> list[str]:
    """The names of the stages this spec needs, in order."""
    return [stage.name for stage in planned(spec)]
