"""The costs stage: what each arm costs to serve per 1k queries at the chosen GPU, its one-off
costs (indexing, training), the break-even volumes, and the estimator's figures for the same
training at that GPU (compare.costs holds the cost model)."""
from __future__ import annotations

import platform
from typing import TYPE_CHECKING

from compare import metrics
from compare.answering import read_answers
from compare.arms import uses_adapter, uses_retrieval
from compare.costs import arm_cost, break_evens, gpu_price
from compare.records import Retrieval, Split, TrainRecord
from compare.results import CostFigures, TrainingEstimate

if TYPE_CHECKING:
    from compare.pipeline import Pipeline



def costs_stage(p: Pipeline) -> None:
    spec = p.spec
    retrieval, train = p.read_optional("retrieval.json", Retrieval), p.read_optional("train.json", TrainRecord)
    try:
        usd_per_hour, source = gpu_price(spec.gpu)
    except Exception as exc:  # noqa: BLE001 - no price (unknown GPU, estimator missing): costs stay empty
        usd_per_hour, source = None, f"no price for {spec.gpu!r}: {exc}"
        p.log(f"costs: {source}")
    fixed_parts = {"index": retrieval.index_seconds if retrieval else 0.0, "train": train.seconds if train else 0.0}
    arms = {}
    if usd_per_hour is not None:
        for arm in spec.arms:
            latencies = [r.machine_seconds for r in read_answers(p.run_dir, arm).values()]
            parts = {k: v for k, v in fixed_parts.items()
                     if (k == "index" and uses_retrieval(arm)) or (k == "train" and uses_adapter(arm))}
            arms[arm] = arm_cost(arm, metrics.mean(latencies), usd_per_hour, parts)
    p.write("costs.json", CostFigures(
        gpu=spec.gpu, usd_per_hour=usd_per_hour, price_source=source,
        basis=(f"Each query is billed its mean measured latency (one question at a time, on "
               f"{_machine()}) at the GPU's on-demand price; fixed costs are the measured indexing and "
               "training wall times at the same price. Run the comparison on the GPU you would serve "
               "on for figures you can budget with."),
        arms=arms, break_even=break_evens(list(arms.values())),
        training_estimate=_training_estimate(p, train) if train else None,
    ))


def _machine() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name()
    except ImportError:
        pass
    return f"the CPU of this machine ({platform.machine()})"


def _training_estimate(p: Pipeline, train: TrainRecord) -> TrainingEstimate:
    """The estimator's time, cost and memory for the same training (train/'s JobSpec) at the
    chosen GPU, or why not."""
    spec, ft = p.spec, p.spec.finetune
    try:
        from compare.training import job_spec
        from estimator import estimate
        from tuning.loading import load_tokenizer
        from tuning.memory import estimate_request

        tokenizer = load_tokenizer(spec.model)
        texts = [row.question + "\n" + row.reference for row in p.read("split.json", Split).train]
        train_tokens = sum(len(ids) for ids in tokenizer(texts)["input_ids"])
        epochs = (train.steps * ft.batch_size / max(len(texts), 1)) if ft.max_steps else ft.epochs
        est = estimate(estimate_request(job_spec(p), gpu=spec.gpu, train_tokens=train_tokens, epochs=epochs))
        return TrainingEstimate(train_tokens=train_tokens, epochs=epochs, time_hours=est.time_hours,
                                cost_usd=est.cost_usd, memory_gib_at_gpu=est.memory_gib["total"])
    except Exception as exc:  # noqa: BLE001 - the estimate is a comparison aid, never a reason to fail
        return TrainingEstimate(error=f"{type(exc).__name__}: {exc}")


