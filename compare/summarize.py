"""The last two stages: costs (per query, fixed, break-even, the estimator's training figures)
and results (per-arm metrics from the answers, answers.jsonl side by side, metrics.md,
results.json -- written last, so its presence means the run is whole)."""
from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from compare import metrics
from compare.arms import uses_adapter, uses_retrieval
from compare.costs import arm_cost, break_evens, gpu_price
from compare.evidence import summarize_evidence
from compare.answering import latency_path
from compare.files import read_jsonl
from compare.plan import stage_output
from compare.records import AnswerRecord, EvalItem, Forgetting, LatencySample, Retrieval, Split, TrainRecord
from compare.results import ArmMetrics, CostFigures, Results, TrainingEstimate, TrainingFigures
from tuning.runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline


def _answers(p: Pipeline, arm: str) -> dict[int, AnswerRecord]:
    return {r["id"]: AnswerRecord.model_validate(r) for r in read_jsonl(stage_output(p.run_dir, arm))}


def _latency_sample(p: Pipeline, arm: str) -> LatencySample | None:
    path = latency_path(p.run_dir, arm)
    return LatencySample.model_validate_json(path.read_text()) if path.exists() else None


# ---------------------------------------------------------------- costs


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
            latencies = [r.machine_seconds for r in _answers(p, arm).values()]
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


# ---------------------------------------------------------------- results


def arm_metrics(arm: str, eval_items: list[EvalItem], answers: dict[int, AnswerRecord], retrieval: Retrieval | None,
                forgetting: Forgetting | None, cost_per_1k: float | None,
                sample: LatencySample | None = None) -> ArmMetrics:
    """Means over the held-out questions; a missing answer counts as an empty one. Latency
    percentiles come from the single-request sample when there is one, else from the batches'
    wall times (what each user of a batch waited)."""
    em, f1, rl, latencies, shares, batch_sizes, new_tokens, prompt_tokens = [], [], [], [], [], [], [], []
    for row in eval_items:
        got = answers.get(row.id)
        text = got.answer if got else ""
        em.append(metrics.exact_match(text, row.reference))
        f1.append(metrics.token_f1(text, row.reference))
        rl.append(metrics.rouge_l(text, row.reference))
        if got:
            latencies.append(got.latency_s)
            shares.append(got.machine_seconds)
            batch_sizes.append(got.batch_size)
            new_tokens.append(got.new_tokens)
            prompt_tokens.append(got.prompt_tokens)
    single = bool(sample and sample.latencies_s)
    if single:
        latencies = sample.latencies_s
    hits = [q.hit for q in retrieval.questions] if retrieval and uses_retrieval(arm) else None
    ppl = forgetting if forgetting and uses_adapter(arm) else None
    return ArmMetrics(
        arm=arm, questions=len(eval_items),
        exact_match=metrics.mean(em), token_f1=metrics.mean(f1), rouge_l=metrics.mean(rl),
        latency_p50_s=metrics.percentile(latencies, 50) if latencies else 0.0,
        latency_p95_s=metrics.percentile(latencies, 95) if latencies else 0.0,
        latency_mean_s=metrics.mean(latencies),
        latency_basis=(f"single request, {len(latencies)} question(s) answered alone" if single
                       else f"wall time of batches of up to {max(batch_sizes, default=1)}"),
        seconds_per_answer=metrics.mean(shares), answer_batch_size=max(batch_sizes, default=1),
        generated_tokens=sum(new_tokens), generated_tokens_mean=metrics.mean(new_tokens),
        prompt_tokens_mean=metrics.mean(prompt_tokens) if prompt_tokens else None,
        hit_at_k=metrics.mean(hits) if hits is not None else None,
        k=retrieval.k if hits is not None else None,
        perplexity_before=ppl.perplexity_before if ppl else None,
        perplexity_after=ppl.perplexity_after if ppl else None,
        cost_per_1k_queries_usd=cost_per_1k,
    )


def _training_figures(train: TrainRecord, costs: CostFigures) -> TrainingFigures:
    memory = train.memory
    measured, estimated = memory.get("measured_peak_gib"), memory.get("estimated_total_gib")
    est = costs.training_estimate or TrainingEstimate()
    usd = costs.usd_per_hour
    return TrainingFigures(
        method=train.method, steps=train.steps, train_examples=train.train_examples, seconds=train.seconds,
        measured_peak_gib=measured, measured_kind=memory.get("measured"), estimated_peak_gib=estimated,
        estimate_error_pct=(estimated - measured) / measured * 100 if measured and estimated else None,
        estimated_peak_gib_at_gpu=est.memory_gib_at_gpu, estimated_hours_at_gpu=est.time_hours,
        cost_usd=train.seconds / 3600 * usd if usd is not None else None,
        estimated_cost_usd=est.cost_usd, run_dir=train.run_dir,
    )


def results_stage(p: Pipeline) -> None:
    spec = p.spec
    split = p.read("split.json", Split)
    retrieval, forgetting = p.read_optional("retrieval.json", Retrieval), p.read_optional("forgetting.json", Forgetting)
    train, costs = p.read_optional("train.json", TrainRecord), p.read("costs.json", CostFigures)
    answers = {arm: _answers(p, arm) for arm in spec.arms}
    arms = {
        arm: arm_metrics(arm, split.eval, answers[arm], retrieval, forgetting,
                         costs.arms[arm].per_1k_queries_usd if arm in costs.arms else None, _latency_sample(p, arm))
        for arm in spec.arms
    }
    results = Results(
        run_dir=str(p.run_dir), model=spec.model, data=str(spec.data),
        train_examples=len(split.train), eval_examples=len(split.eval), seed=spec.seed, k=spec.rag.k,
        generation=spec.generation.model_dump(mode="json"),
        hit_definition=retrieval.hit_definition if retrieval else None,
        index_seconds=retrieval.index_seconds if retrieval else None,
        index_chunks=retrieval.chunks if retrieval else None,
        arms=arms,
        training=_training_figures(train, costs) if train else None,
        costs=costs,
        notes=_notes(spec, train),
    )
    per_question = {arm: [metrics.token_f1(answers[arm][row.id].answer if row.id in answers[arm] else "", row.reference)
                          for row in split.eval] for arm in spec.arms}
    results.evidence = summarize_evidence(results, per_question, "token_f1", "token F1", spec.advised)
    _write_side_by_side(p, split.eval, answers, retrieval)
    write_atomic(p.path("metrics.md"), results.to_markdown())
    write_atomic(p.path("results.json"), results.model_dump_json(indent=2))


def _notes(spec, train: TrainRecord | None) -> list[str]:
    notes = []
    if train and train.method == "qlora":
        notes.append("base and rag answer with the base in its usual precision; the fine-tuned arms with the "
                     "4-bit NF4 base the QLoRA adapter was trained on")
    if train and train.memory.get("device") == "cpu":
        notes.append("training memory was measured on CPU (process peak RSS, runtime included); the estimate "
                     "is for the same setup: compare the two on a GPU")
    return notes


def _write_side_by_side(p: Pipeline, eval_items: list[EvalItem], answers: dict[str, dict[int, AnswerRecord]],
                        retrieval: Retrieval | None) -> None:
    """answers.jsonl: per question the reference and every arm's answer with its scores."""
    hits = retrieval.by_id() if retrieval else {}
    lines = []
    for row in eval_items:
        record: dict = {"id": row.id, "question": row.question, "reference": row.reference}
        if row.relevant is not None:
            record["relevant"] = row.relevant
        record["answers"] = {arm: a[row.id].answer if row.id in a else "" for arm, a in answers.items()}
        record["scores"] = {
            arm: {"exact_match": metrics.exact_match(text, row.reference),
                  "token_f1": round(metrics.token_f1(text, row.reference), 4),
                  "rouge_l": round(metrics.rouge_l(text, row.reference), 4)}
            for arm, text in record["answers"].items()
        }
        if row.id in hits:
            record["retrieved"] = [Path(h.source).name for h in hits[row.id].hits]
            record["retrieval_hit"] = hits[row.id].hit
        lines.append(json.dumps(record, ensure_ascii=False))
    write_atomic(p.path("answers.jsonl"), "\n".join(lines) + "\n")
