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
from compare.view import comparison_markdown
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline
    from compare.scoring import AnswerScore
    from compare.spec import CompareSpec



def arm_metrics(arm: str, eval_items: list[EvalItem], answers: dict[int, AnswerRecord], retrieval: Retrieval | None,
                forgetting: Forgetting | None, cost_per_1k: float | None,
                sample: LatencySample | None = None) -> ArmMetrics:
    """Means over the held-out questions; a missing answer counts as an empty one. Latency
    percentiles come from the single-request sample when there is one, else from the batches'
    wall times (what each user of a batch waited)."""
    texts = [answers[row.id].answer if row.id in answers else "" for row in eval_items]
    scored = [text_scores(text, row.reference) for text, row in zip(texts, eval_items, strict=True)]
    got = [answers[row.id] for row in eval_items if row.id in answers]
    latencies = [answer.latency_s for answer in got]
    batch_sizes = [answer.batch_size for answer in got]
    single = bool(sample and sample.latencies_s)
    if single:
        latencies = sample.latencies_s
    hits = [question.hit for question in retrieval.questions] if retrieval and uses_retrieval(arm) else None
    ppl = forgetting if forgetting and uses_adapter(arm) else None
    ratios = [ratio for text, row in zip(texts, eval_items, strict=True)
              if (ratio := metrics.length_ratio(text, row.reference)) is not None]
    opening = metrics.common_opening([row.reference for row in eval_items])
    # With a shared opening word, an answer that does not open with it is not in the form, whatever its length.
    opens = [metrics.opening_word(text) == opening if opening else True for text in texts]

    def mean_of(name: str) -> float:
        return metrics.mean([scores[name] for scores in scored])

    return ArmMetrics(
        arm=arm, questions=len(eval_items), answer_correct=mean_of("answer_correct"),
        format_match=FormatMatch(
            score=metrics.mean([scores["length_agreement"] * ok for scores, ok in zip(scored, opens, strict=True)]),
            exact_match=mean_of("exact_match"), length_ratio_median=metrics.median(ratios), opening=opening,
            opening_share=metrics.mean([float(ok) for ok in opens]) if opening else None),
        exact_match=mean_of("exact_match"), token_f1=mean_of("token_f1"), rouge_l=mean_of("rouge_l"),
        latency_p50_s=metrics.percentile(latencies, 50) if latencies else 0.0,
        latency_p95_s=metrics.percentile(latencies, 95) if latencies else 0.0,
        latency_mean_s=metrics.mean(latencies),
        latency_basis=(f"single request, {len(latencies)} question(s) answered alone" if single
                       else f"wall time of batches of up to {max(batch_sizes, default=1)}"),
        seconds_per_answer=metrics.mean([answer.machine_seconds for answer in got]),
        answer_batch_size=max(batch_sizes, default=1),
        generated_tokens=sum(answer.new_tokens for answer in got),
        generated_tokens_mean=metrics.mean([answer.new_tokens for answer in got]),
        prompt_tokens_mean=metrics.mean([answer.prompt_tokens for answer in got]) if got else None,
        hit_at_k=metrics.mean(hits) if hits is not None else None,
        k=retrieval.k if hits is not None else None,
        perplexity_before=ppl.perplexity_before if ppl else None,
        perplexity_after=ppl.perplexity_after if ppl else None,
        cost_per_1k_queries_usd=cost_per_1k,
    )


def retrieval_split(hits: list[float], right: list[float], correct_by: str) -> RetrievalSplit:
    """Questions counted by (retrieval hit, right answer), paired by position."""
    pairs = list(zip(hits, right, strict=True))
    return RetrievalSplit(hit_correct=sum(1 for hit, ok in pairs if hit and ok),
                          hit_wrong=sum(1 for hit, ok in pairs if hit and not ok),
                          miss_correct=sum(1 for hit, ok in pairs if not hit and ok),
                          miss_wrong=sum(1 for hit, ok in pairs if not hit and not ok), correct_by=correct_by)


def _right_answers(main: MainMetric, arm: str, eval_items: list[EvalItem],
                   answers: dict[int, AnswerRecord]) -> tuple[list[float], str]:
    """Per question, whether `arm` answered right: by the main metric when it is 0/1 and scored every
    question, else by answer_correct."""
    if main.binary and len(main.per_question[arm]) == len(eval_items):
        return main.per_question[arm], main.metric
    return [metrics.answer_correct(answers[row.id].answer if row.id in answers else "", row.reference)
            for row in eval_items], "answer_correct"


def _training_figures(name: str, train: TrainRecord, costs: CostFigures) -> TrainingFigures:
    memory = train.memory
    measured, estimated = memory.get("measured_peak_gib"), memory.get("estimated_total_gib")
    estimate = costs.training_estimates.get(name) or TrainingEstimate()
    usd = costs.usd_per_hour
    return TrainingFigures(
        method=train.method, prompts=train.prompts, arms=train.arms, steps=train.steps, epoch_steps=train.epoch_steps,
        train_examples=train.train_examples, seconds=train.seconds,
        measured_peak_gib=measured, measured_kind=memory.get("measured"), estimated_peak_gib=estimated,
        estimate_error_pct=(estimated - measured) / measured * 100 if measured and estimated else None,
        estimated_peak_gib_at_gpu=estimate.memory_gib_at_gpu, estimated_hours_at_gpu=estimate.time_hours,
        # Measured time x price only where it ran on a GPU: CPU seconds at a GPU's price mean nothing.
        cost_usd=train.seconds / 3600 * usd if usd is not None and memory.get("device") not in (None, "cpu") else None,
        estimated_cost_usd=estimate.cost_usd, run_dir=train.run_dir,
    )


def run(pipeline: Pipeline) -> None:
    spec = pipeline.spec
    split = pipeline.read(files.SPLIT, Split)
    retrieval, costs = pipeline.read_optional(files.RETRIEVAL, Retrieval), pipeline.read(files.COSTS, CostFigures)
    forgetting = pipeline.read_optional(files.FORGETTING, Forgettings)
    trains = {adapter.name: pipeline.read(adapter.record_file, TrainRecord) for adapter in adapters(spec)}
    answers = {arm: read_answers(pipeline.run_dir, arm) for arm in spec.arms}
    scores = pipeline.read_optional(files.SCORES, Scores)
    arms = {
        arm: arm_metrics(arm, split.eval, answers[arm], retrieval, _forgetting(spec, arm, forgetting),
                         costs.arms[arm].per_1k_queries_usd if arm in costs.arms else None,
                         pipeline.read_optional(files.latency(arm), LatencySample))
        for arm in spec.arms
    }
    for arm in arms if scores else ():
        arms[arm].scores = scores.arms[arm].summaries
    results = Results(
        run_dir=str(pipeline.run_dir), model=spec.model, data=str(spec.data),
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
            arms[arm].retrieval_split = retrieval_split([question.hit for question in retrieval.questions], right, by)
    results.evidence = summarize_evidence(results, main, spec.advised, seed=spec.seed)
    _write_side_by_side(pipeline, split.eval, answers, retrieval, scores)
    write_atomic(pipeline.path(files.METRICS_MD), comparison_markdown(results))
    write_atomic(pipeline.path(files.RESULTS), results.model_dump_json(indent=2))


def _forgetting(spec: CompareSpec, arm: str, forgetting: Forgettings | None) -> Forgetting | None:
    """The forgetting figures of the adapter that answers for `arm` (none for an arm with no adapter)."""
    return forgetting.adapters.get(adapter_for(spec, arm).name) if forgetting and uses_adapter(arm) else None


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


def _write_side_by_side(pipeline: Pipeline, eval_items: list[EvalItem], answers: dict[str, dict[int, AnswerRecord]],
                        retrieval: Retrieval | None, scores: Scores | None) -> None:
    """answers.jsonl: per question the reference and every arm's answer with its scores (and the
    task-aware scorers' verdicts: a score, and for a failure why: the error, the timeout)."""
    hits = retrieval.by_id() if retrieval else {}
    lines = []
    for i, row in enumerate(eval_items):
        record: dict = {"id": row.id, "question": row.question, "reference": row.reference}
        if row.relevant is not None:
            record["relevant"] = row.relevant
        record["answers"] = {arm: given[row.id].answer if row.id in given else "" for arm, given in answers.items()}
        record["scores"] = {arm: {name: round(value, 4) for name, value in text_scores(text, row.reference).items()}
                            for arm, text in record["answers"].items()}
        for arm, result in (scores.arms.items() if scores else ()):
            verdicts = result.per_answer[i]
            record["scores"][arm] |= {name: verdict.score for name, verdict in verdicts.items()}
            notes = {name: _scorer_note(verdict) for name, verdict in verdicts.items()
                     if verdict.status != "ok" or verdict.note}
            if notes:
                record.setdefault("scorer_notes", {})[arm] = notes
        if row.id in hits:
            record["retrieved"] = [Path(hit.source).name for hit in hits[row.id].hits]
            record["retrieval_hit"] = hits[row.id].hit
        lines.append(json.dumps(record, ensure_ascii=False))
    write_atomic(pipeline.path(files.ANSWERS_JSONL), "\n".join(lines) + "\n")


def _scorer_note(verdict: AnswerScore) -> str:
    """Why a scorer failed on an answer (its error, or its status: a timeout), and its note."""
    failure = verdict.error or (verdict.status if verdict.status != "ok" else None)
    return "; ".join(filter(None, [failure, verdict.note]))
