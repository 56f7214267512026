"""The results stage: per-arm metrics from the answers (and the scorers' verdicts), answers.jsonl
side by side, the evidence paragraph, metrics.md, and results.json -- written last, so its
presence means the run is whole."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from compare import files, metrics
from compare.adapters import adapter_for, adapters
from compare.arms import uses_adapter, uses_retrieval
from compare.evidence import summarize_evidence
from compare.ranking import MainMetric, main_metric, text_scores
from compare.records import (
    AnswerRecord,
    EvalItem,
    Forgetting,
    Forgettings,
    LatencySample,
    Retrieval,
    Scores,
    Split,
    TrainRecord,
    read_answers,
)
from compare.results import (
    ArmMetrics,
    CostFigures,
    FormatMatch,
    Results,
    RetrievalSplit,
    TrainingEstimate,
    TrainingFigures,
)
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline



def arm_metrics(arm: str, eval_items: list[EvalItem], answers: dict[int, AnswerRecord], retrieval: Retrieval | None,
                forgetting: Forgetting | None, cost_per_1k: float | None,
                sample: LatencySample | None = None) -> ArmMetrics:
    """Means over the held-out questions; a missing answer counts as an empty one. Latency
    percentiles come from the single-request sample when there is one, else from the batches'
    wall times (what each user of a batch waited)."""
    scored = [text_scores(answers[row.id].answer if row.id in answers else "", row.reference) for row in eval_items]
    got = [answers[row.id] for row in eval_items if row.id in answers]
    latencies = [a.latency_s for a in got]
    batch_sizes = [a.batch_size for a in got]
    single = bool(sample and sample.latencies_s)
    if single:
        latencies = sample.latencies_s
    hits = [q.hit for q in retrieval.questions] if retrieval and uses_retrieval(arm) else None
    ppl = forgetting if forgetting and uses_adapter(arm) else None
    ratios = [r for row in eval_items
              if (r := metrics.length_ratio(answers[row.id].answer if row.id in answers else "", row.reference)) is not None]

    def mean_of(name: str) -> float:
        return metrics.mean([s[name] for s in scored])

    return ArmMetrics(
        arm=arm, questions=len(eval_items), answer_correct=mean_of("answer_correct"),
        format_match=FormatMatch(score=mean_of("length_agreement"), exact_match=mean_of("exact_match"),
                                 length_ratio_median=metrics.median(ratios)),
        exact_match=mean_of("exact_match"), token_f1=mean_of("token_f1"), rouge_l=mean_of("rouge_l"),
        latency_p50_s=metrics.percentile(latencies, 50) if latencies else 0.0,
        latency_p95_s=metrics.percentile(latencies, 95) if latencies else 0.0,
        latency_mean_s=metrics.mean(latencies),
        latency_basis=(f"single request, {len(latencies)} question(s) answered alone" if single
                       else f"wall time of batches of up to {max(batch_sizes, default=1)}"),
        seconds_per_answer=metrics.mean([a.machine_seconds for a in got]), answer_batch_size=max(batch_sizes, default=1),
        generated_tokens=sum(a.new_tokens for a in got), generated_tokens_mean=metrics.mean([a.new_tokens for a in got]),
        prompt_tokens_mean=metrics.mean([a.prompt_tokens for a in got]) if got else None,
        hit_at_k=metrics.mean(hits) if hits is not None else None,
        k=retrieval.k if hits is not None else None,
        perplexity_before=ppl.perplexity_before if ppl else None,
        perplexity_after=ppl.perplexity_after if ppl else None,
        cost_per_1k_queries_usd=cost_per_1k,
    )


def retrieval_split(hits: list[float], right: list[float], correct_by: str) -> RetrievalSplit:
    """Questions counted by (retrieval hit, right answer), paired by position."""
    pairs = list(zip(hits, right))
    return RetrievalSplit(hit_correct=sum(1 for h, r in pairs if h and r), hit_wrong=sum(1 for h, r in pairs if h and not r),
                          miss_correct=sum(1 for h, r in pairs if not h and r),
                          miss_wrong=sum(1 for h, r in pairs if not h and not r), correct_by=correct_by)


def _right_answers(main: MainMetric, arm: str, eval_items: list[EvalItem], answers: dict[int, AnswerRecord]) -> tuple[list[float], str]:
    """Per question, whether `arm` answered right: by the main metric when it is 0/1 and scored every
    question, else by answer_correct."""
    if main.binary and len(main.per_question[arm]) == len(eval_items):
        return main.per_question[arm], main.metric
    return [metrics.answer_correct(answers[row.id].answer if row.id in answers else "", row.reference)
            for row in eval_items], "answer_correct"


def _training_figures(name: str, train: TrainRecord, costs: CostFigures) -> TrainingFigures:
    memory = train.memory
    measured, estimated = memory.get("measured_peak_gib"), memory.get("estimated_total_gib")
    est = costs.training_estimates.get(name) or TrainingEstimate()
    usd = costs.usd_per_hour
    return TrainingFigures(
        method=train.method, prompts=train.prompts, arms=train.arms, steps=train.steps, epoch_steps=train.epoch_steps,
        train_examples=train.train_examples, seconds=train.seconds,
        measured_peak_gib=measured, measured_kind=memory.get("measured"), estimated_peak_gib=estimated,
        estimate_error_pct=(estimated - measured) / measured * 100 if measured and estimated else None,
        estimated_peak_gib_at_gpu=est.memory_gib_at_gpu, estimated_hours_at_gpu=est.time_hours,
        # Measured time x price only where it ran on a GPU: CPU seconds at a GPU's price mean nothing.
        cost_usd=train.seconds / 3600 * usd if usd is not None and memory.get("device") not in (None, "cpu") else None,
        estimated_cost_usd=est.cost_usd, run_dir=train.run_dir,
    )


def run(p: Pipeline) -> None:
    spec = p.spec
    split = p.read(files.SPLIT, Split)
    retrieval, costs = p.read_optional(files.RETRIEVAL, Retrieval), p.read(files.COSTS, CostFigures)
    forgetting = p.read_optional(files.FORGETTING, Forgettings)
    trains = {a.name: p.read(a.record_file, TrainRecord) for a in adapters(spec)}
    answers = {arm: read_answers(p.run_dir, arm) for arm in spec.arms}
    scores = p.read_optional(files.SCORES, Scores)
    arms = {
        arm: arm_metrics(arm, split.eval, answers[arm], retrieval,
                         forgetting.adapters.get(adapter_for(spec, arm).name) if forgetting and uses_adapter(arm) else None,
                         costs.arms[arm].per_1k_queries_usd if arm in costs.arms else None,
                         p.read_optional(files.latency(arm), LatencySample))
        for arm in spec.arms
    }
    for arm in arms if scores else ():
        arms[arm].scores = scores.arms[arm].summaries
    results = Results(
        run_dir=str(p.run_dir), model=spec.model, data=str(spec.data),
        train_examples=len(split.train), eval_examples=len(split.eval), seed=spec.seed, k=spec.rag.k,
        generation=spec.generation.model_dump(mode="json"),
        hit_definition=retrieval.hit_definition if retrieval else None,
        index_seconds=retrieval.index_seconds if retrieval else None,
        index_chunks=retrieval.chunks if retrieval else None,
        arms=arms,
        trainings={name: _training_figures(name, train, costs) for name, train in trains.items()},
        costs=costs,
        scorers=scores.scorers if scores else [],
        database=scores.database if scores else None,
        notes=_notes(list(trains.values())),
    )
    main = main_metric(spec.primary_metric, split.eval, answers, scores)
    for arm in arms if retrieval else ():
        if uses_retrieval(arm):
            right, by = _right_answers(main, arm, split.eval, answers[arm])
            arms[arm].retrieval_split = retrieval_split([q.hit for q in retrieval.questions], right, by)
    results.evidence = summarize_evidence(results, main, spec.advised, seed=spec.seed)
    _write_side_by_side(p, split.eval, answers, retrieval, scores)
    write_atomic(p.path(files.METRICS_MD), results.to_markdown())
    write_atomic(p.path(files.RESULTS), results.model_dump_json(indent=2))


def _notes(trains: list[TrainRecord]) -> list[str]:
    notes = []
    train = trains[0] if trains else None
    if train and train.method == "qlora":
        notes.append("base and rag answer with the base in its usual precision; the fine-tuned arms with the "
                     "4-bit NF4 base the QLoRA adapter was trained on")
    if train and train.memory.get("device") == "cpu":
        notes.append("training memory was measured on CPU (process peak RSS, runtime included); the estimate "
                     "is for the same setup: compare the two on a GPU")
    return notes


def _write_side_by_side(p: Pipeline, eval_items: list[EvalItem], answers: dict[str, dict[int, AnswerRecord]],
                        retrieval: Retrieval | None, scores: Scores | None) -> None:
    """answers.jsonl: per question the reference and every arm's answer with its scores (and the
    task-aware scorers' verdicts: a score, and for a failure why: the error, the timeout)."""
    hits = retrieval.by_id() if retrieval else {}
    lines = []
    for i, row in enumerate(eval_items):
        record: dict = {"id": row.id, "question": row.question, "reference": row.reference}
        if row.relevant is not None:
            record["relevant"] = row.relevant
        record["answers"] = {arm: a[row.id].answer if row.id in a else "" for arm, a in answers.items()}
        record["scores"] = {arm: {name: round(value, 4) for name, value in text_scores(text, row.reference).items()}
                            for arm, text in record["answers"].items()}
        for arm, result in (scores.arms.items() if scores else ()):
            verdicts = result.per_answer[i]
            record["scores"][arm] |= {name: v.score for name, v in verdicts.items()}
            notes = {name: "; ".join(filter(None, [v.error or (v.status if v.status != "ok" else None), v.note]))
                     for name, v in verdicts.items() if v.status != "ok" or v.note}
            if notes:
                record.setdefault("scorer_notes", {})[arm] = notes
        if row.id in hits:
            record["retrieved"] = [Path(h.source).name for h in hits[row.id].hits]
            record["retrieval_hit"] = hits[row.id].hit
        lines.append(json.dumps(record, ensure_ascii=False))
    write_atomic(p.path(files.ANSWERS_JSONL), "\n".join(lines) + "\n")
