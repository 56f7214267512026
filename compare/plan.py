"""The comparison's stages, in one table: name, the file whose presence marks it finished, and
the function that runs it.

split -> examples -> index -> base -> fewshot -> rag -> train -> finetuned -> train_rag -> finetuned_rag
-> forgetting -> score -> costs -> results (examples: the prompting arms' demonstrations,
compare.examples; train_rag: the hybrid's own adapter, compare.finetune_setup)

Functions are named as "module:function" and imported when the stage runs, so reading the plan
(the CLI, the pages, `runs list`) loads no model library. An answering stage is an arm: its
function gets the arm's name.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from compare.finetune_setup import adapters
from compare.spec import ARMS, CompareSpec

if TYPE_CHECKING:
    from compare.pipeline import Pipeline


@dataclass(frozen=True)
class Stage:
    name: str
    output: str  # relative to the run folder
    function: str  # "module:function", called with the pipeline (and the arm, for an answering stage)

    @property
    def is_arm(self) -> bool:
        return self.name in ARMS

    def run(self, p: Pipeline) -> None:
        module, name = self.function.split(":")
        function = getattr(import_module(module), name)
        function(p, self.name) if self.is_arm else function(p)


STAGES: tuple[Stage, ...] = (
    Stage("split", "split.json", "compare.stages:split_stage"),
    Stage("examples", "examples.json", "compare.examples:examples_stage"),
    Stage("index", "retrieval.json", "compare.stages:index_stage"),
    Stage("base", "answers/base.jsonl", "compare.answering:answer_stage"),
    Stage("fewshot", "answers/fewshot.jsonl", "compare.answering:answer_stage"),
    Stage("rag", "answers/rag.jsonl", "compare.answering:answer_stage"),
    Stage("train", "train.json", "compare.training:train_stage"),
    Stage("finetuned", "answers/finetuned.jsonl", "compare.answering:answer_stage"),
    Stage("train_rag", "train_rag.json", "compare.training:train_rag_stage"),
    Stage("finetuned_rag", "answers/finetuned_rag.jsonl", "compare.answering:answer_stage"),
    Stage("forgetting", "forgetting.json", "compare.stages:forgetting_stage"),
    Stage("score", "scores.json", "compare.score_stage:score_stage"),
    Stage("costs", "costs.json", "compare.cost_stage:costs_stage"),
    Stage("results", "results.json", "compare.results_stage:results_stage"),
)
BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}


def planned_stages(spec: CompareSpec) -> list[str]:
    """The stages this spec needs, in order."""
    wanted = {"split", "costs", "results", *spec.arms}
    if spec.needs_examples:
        wanted.add("examples")
    if spec.needs_retrieval:
        wanted.add("index")
    if spec.needs_training:
        wanted |= {a.name for a in adapters(spec)} | {"forgetting"}
    if spec.scoring is not None:
        wanted.add("score")
    return [s.name for s in STAGES if s.name in wanted]


def stage_output(run_dir: Path, stage: str) -> Path:
    """The file whose presence marks `stage` as finished."""
    return run_dir / BY_NAME[stage].output
