"""The costs stage: what each arm costs to serve per 1k queries at the chosen GPU, its one-off
costs (indexing, training), the break-even volumes, and the estimator's figures for the same
training at that GPU (compare.costs holds the cost model)."""
from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

from compare import files, metrics
from compare.adapters import adapter_for, adapters
from compare.arms import uses_adapter, uses_retrieval
from compare.costs import arm_cost, break_evens, gpu_price
from compare.finetune_setup import job_spec
from compare.records import Retrieval, TrainRecord, read_answers
from compare.results import CostFigures, TrainingEstimate

if TYPE_CHECKING:
    from compare.pipeline import Pipeline



# all-MiniLM-L6-v2 (the index's embedder): 22.7 M parameters, at most 256 tokens a chunk; 2N FLOPs
# per token at the estimator's default utilisation -> what indexing would cost on the GPU.
EMBEDDER_PARAMS, CHUNK_TOKENS, MFU = 22.7e6, 256, 0.4


def run(pipeline: Pipeline) -> None:
    """costs.json: each arm's serving cost from the estimator's serving model at the chosen GPU,
    for the arm's own measured mean prompt and answer lengths (retrieval's passages make its
    prompts longer: that is its real cost), and its one-off costs at the same GPU."""
    spec = pipeline.spec
    retrieval = pipeline.read_optional(files.RETRIEVAL, Retrieval)
    trained = {adapter.name: (adapter, pipeline.read(adapter.record_file, TrainRecord)) for adapter in adapters(spec)}
    training = {name: _training_estimate(pipeline, adapter, train) for name, (adapter, train) in trained.items()}
    try:
        usd_per_hour, source = gpu_price(spec.gpu)
    except Exception as exc:  # noqa: BLE001 - no price (unknown GPU, estimator missing): costs stay empty
        usd_per_hour, source = None, f"no price for {spec.gpu!r}: {exc}"
        pipeline.log(f"costs: {source}")
    arms, serving = {}, {}
    try:
        _serving(spec, [])  # can the estimator price this model at this GPU?
    except Exception as exc:  # noqa: BLE001 - an unknown model or GPU: no costs, and why
        usd_per_hour, source = None, f"no serving estimate for {spec.model!r} at {spec.gpu!r}: {exc}"
        pipeline.log(f"costs: {source}")
    if usd_per_hour is not None:
        index_usd = _index_usd(spec.gpu, retrieval, usd_per_hour) if retrieval else 0.0
        for arm in spec.arms:
            answers = list(read_answers(pipeline.run_dir, arm).values())
            estimate = _serving(spec, answers)
            serving[arm] = estimate
            parts = {"index": index_usd} if uses_retrieval(arm) else {}
            if uses_adapter(arm):
                parts["train"] = training[adapter_for(spec, arm).name].cost_usd or 0.0
            arms[arm] = arm_cost(arm, estimate.usd_per_1k_queries / 1000, parts,
                                 prompt_tokens=metrics.mean([answer.prompt_tokens for answer in answers]),
                                 output_tokens=metrics.mean([answer.new_tokens for answer in answers]),
                                 latency_s=estimate.latency_s)
    pipeline.write(files.COSTS, CostFigures(
        gpu=spec.gpu, usd_per_hour=usd_per_hour, price_source=source, concurrency=spec.concurrency,
        basis=(f"Serving: the estimator's serving model at {spec.gpu} for each arm's measured mean prompt and "
               f"answer tokens, {spec.concurrency} requests decoded together (prefill compute-bound at 40% of the "
               "dense peak, decoding bandwidth-bound at 60% of the memory bandwidth; the fine-tuned arms served "
               "with the adapter merged, so at the base model's cost). One-off: training at the estimator's time "
               "for the same job at that GPU, indexing as the embedder's FLOPs there. Retrieval's own query "
               f"(one embedding, a vector search) is left out: microseconds next to generation. Latencies in the "
               f"metric table are measured on {_machine()}."),
        arms=arms, break_even=break_evens(list(arms.values())), serving=serving, training_estimates=training,
    ))


def _serving(spec, answers: list):
    from estimator.serving import ServingRequest, serving_estimate

    prompt = max(metrics.mean([answer.prompt_tokens for answer in answers]), 1.0)
    output = metrics.mean([answer.new_tokens for answer in answers])
    return serving_estimate(ServingRequest(model=_estimator_model(spec.model), gpu=spec.gpu, prompt_tokens=prompt,
                                           output_tokens=output, concurrency=spec.concurrency))


def _estimator_model(model: str) -> str:
    """The estimator reads a local model folder through its config.json."""
    folder = Path(model)
    return str(folder / "config.json") if (folder / "config.json").is_file() else model


def _index_usd(gpu_name: str, retrieval: Retrieval, usd_per_hour: float) -> float:
    from estimator.gpus import load_gpu

    gpu = load_gpu(gpu_name)
    seconds = retrieval.chunks * CHUNK_TOKENS * 2 * EMBEDDER_PARAMS / (gpu.peak_tflops("bf16") * 1e12 * MFU)
    return seconds / 3600 * usd_per_hour


def _machine() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name()
    except ImportError:
        pass
    return f"the CPU of this machine ({platform.machine()})"


def _training_estimate(pipeline: Pipeline, adapter, train: TrainRecord) -> TrainingEstimate:
    """The estimator's time, cost and memory for the same training (the sub-run's JobSpec, at the
    longest padded batch of its real rows) at the chosen GPU, or why not."""
    spec = pipeline.spec
    try:
        from estimator import estimate
        from lm.loading import load_tokenizer
        from tuning.memory import estimate_request, padded_batch_length, sequence_tokens
        from tuning.recipes.common import trl_rows

        job = job_spec(pipeline, adapter)
        tokenizer = load_tokenizer(job.model)
        rows = trl_rows(job, tokenizer, Path(train.run_dir))[0]  # the rows as the recipe gave them to trl
        train_tokens = sum(sum(sequence_tokens(tokenizer, row, job.max_seq_len)) for row in rows)
        epochs = train.steps * job.batch_size * job.grad_accum / max(len(rows), 1)
        figures = estimate(estimate_request(job, gpu=spec.gpu, train_tokens=train_tokens, epochs=epochs,
                                        seq_len=padded_batch_length(job, tokenizer, rows)))
        return TrainingEstimate(train_tokens=train_tokens, epochs=epochs, time_hours=figures.time_hours,
                                cost_usd=figures.cost_usd, memory_gib_at_gpu=figures.memory_gib["total"])
    except Exception as exc:  # noqa: BLE001 - the estimate is a comparison aid, never a reason to fail
        return TrainingEstimate(error=f"{type(exc).__name__}: {exc}")
