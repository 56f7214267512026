"""The results stage: per-arm metrics from the answers (and the scorers' verdicts), answers.jsonl
side by side, the evidence paragraph, metrics.md, and results.json -- written last, so its
presence means the run is whole."""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from compare import metrics
from compare.answering import latency_path, read_answers
from compare.arms import uses_adapter, uses_retrieval
from compare.evidence import summarize_evidence
from compare.finetune_setup import adapter_for, adapters
from compare.records import AnswerRecord, EvalItem, Forgetting, Forgettings, LatencySample, Retrieval, Split, TrainRecord
from compare.results import SCORER_LABELS, ArmMetrics, CostFigures, Results, TrainingEstimate, TrainingFigures
from compare.score_stage import Scores
from runs import write_atomic

if TYPE_CHECKING:
    from compare.pipeline import Pipeline


def _latency_sample(p: Pipeline, arm: str) -> LatencySample | None:
    path = latency_path(p.run_dir, arm)
    return LatencySample.model_validate_json(path.read_text()) if path.exists() else None



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


def results_stage(p: Pipeline) -> None:
    spec = p.spec
    split = p.read("split.json", Split)
    retrieval, costs = p.read_optional("retrieval.json", Retrieval), p.read("costs.json", CostFigures)
    forgetting = p.read_optional("forgetting.json", Forgettings)
    trains = {a.name: p.read(a.record_file, TrainRecord) for a in adapters(spec)}
    answers = {arm: read_answers(p.run_dir, arm) for arm in spec.arms}
    scores = p.read_optional("scores.json", Scores)
    arms = {
        arm: arm_metrics(arm, split.eval, answers[arm], retrieval,
                         forgetting.adapters.get(adapter_for(spec, arm).name) if forgetting and uses_adapter(arm) else None,
                         costs.arms[arm].per_1k_queries_usd if arm in costs.arms else None, _latency_sample(p, arm))
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
    metric, label, per_question, preface = _main_metric(split.eval, answers, scores)
    results.evidence = summarize_evidence(results, per_question, metric, label, spec.advised, preface=preface)
    _write_side_by_side(p, split.eval, answers, retrieval, scores)
    write_atomic(p.path("metrics.md"), results.to_markdown())
    write_atomic(p.path("results.json"), results.model_dump_json(indent=2))


def _main_metric(eval_items: list[EvalItem], answers: dict[str, dict[int, AnswerRecord]],
                 scores: Scores | None) -> tuple[str, str, dict[str, list[float]], str]:
    """(metric, label, arm -> per-question scores, a preface) the evidence ranks by: the first
    task-aware scorer when there is one (questions it excluded for every arm left out), else token
    F1; token F1 too when the scorer gives every arm the same score on every question (0 for all:
    it cannot rank them), and the preface says so."""
    f1 = {arm: [metrics.token_f1(a[row.id].answer if row.id in a else "", row.reference) for row in eval_items]
          for arm, a in answers.items()}
    if not (scores and scores.scorers):
        return "token_f1", "token F1", f1, ""
    name = scores.scorers[0]
    label = SCORER_LABELS.get(name, name)
    verdicts = {arm: [a[name].score for a in r.per_answer] for arm, r in scores.arms.items()}
    kept = [i for i in range(len(eval_items)) if all(v[i] is not None for v in verdicts.values())]
    per_question = {arm: [v[i] for i in kept] for arm, v in verdicts.items()}
    values = {x for v in per_question.values() for x in v}
    if len(values) > 1:
        return name, label, per_question, ""
    same = f"{next(iter(values)):.2f}" if values else "undefined"
    return "token_f1", "token F1", f1, f"{label[0].upper()}{label[1:]} is {same} for every arm on every question, so it ranks none: the arms are ranked by token F1."


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
        record["scores"] = {
            arm: {"exact_match": metrics.exact_match(text, row.reference),
                  "token_f1": round(metrics.token_f1(text, row.reference), 4),
                  "rouge_l": round(metrics.rouge_l(text, row.reference), 4)}
            for arm, text in record["answers"].items()
        }
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
    write_atomic(p.path("answers.jsonl"), "\n".join(lines) + "\n")
