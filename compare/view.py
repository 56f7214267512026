"""The ONE view of a finished comparison: `comparison_document(results)` builds it once as a
`report.Document`, and every place that shows a comparison renders that document: metrics.md
(`comparison_markdown`), the advisor's report (`comparison_sections(results, level=3)`, in md,
html and pdf) and the Compare page (ui.document_view). One order and one set of columns for all:
the arms in compare.spec.ARMS order under their titles; a figure no arm has is left out.

Sections, each only when it has something to show: what the evidence shows (its paragraph, what
ran, the picture), metrics, retrieval hits against right answers, how sure, task-aware scorers,
one per adapter's training, cost, notes."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from compare.chart import chart_metric, quality_cost_chart
from compare.evidence import usd
from compare.ranking import SCORER_LABELS
from compare.results import ArmMetrics, Results, TrainingFigures, of_epochs
from compare.spec import ARM_TITLES, ARMS
from report import Block, Bullets, Cell, Chart, Column, Document, Paragraph, Section, Table, render_markdown, table

SCORE = "{:.3f}"  # means over questions, in [0, 1]


def _format_match(m: ArmMetrics) -> float | None:
    return m.format_match.score if m.format_match else None


def _length_ratio(m: ArmMetrics) -> float | None:
    return m.format_match.length_ratio_median if m.format_match else None


def _field(name: str) -> Callable[[ArmMetrics], float | None]:
    return lambda m: getattr(m, name)


Metric = tuple[Column, Callable[[ArmMetrics], float | None]]  # the column, how to read it off an arm

# The metric table's columns after the task-aware scorers: how good the answers are.
METRICS: tuple[Metric, ...] = (
    (Column("correct", SCORE), _field("answer_correct")),
    (Column("format match", SCORE), _format_match),
    (Column("length x ref", "{:.1f}"), _length_ratio),
    (Column("exact match", SCORE), _field("exact_match")),
    (Column("token F1", SCORE), _field("token_f1")),
    (Column("ROUGE-L", SCORE), _field("rouge_l")),
    (Column("hit@k", SCORE), _field("hit_at_k")),
)
# The second table: what an answer takes, and what the fine-tune did to the base model.
SPEED_AND_FORGETTING: tuple[Metric, ...] = (
    (Column("latency p50 (s)", "{:.3f}"), _field("latency_p50_s")),
    (Column("latency p95 (s)", "{:.3f}"), _field("latency_p95_s")),
    (Column("s / answer in batches", "{:.3f}"), _field("seconds_per_answer")),
    (Column("tokens / answer", "{:.1f}"), _field("generated_tokens_mean")),
    (Column("perplexity before", "{:.1f}"), _field("perplexity_before")),
    (Column("perplexity after", "{:.1f}"), _field("perplexity_after")),
)


def _title(arm: str) -> str:
    return ARM_TITLES.get(arm, arm)


def ordered_arms(results: Results) -> list[str]:
    """The arms in their logical order (compare.spec.ARMS: base, fewshot, rag, finetuned, finetuned_rag)."""
    return sorted(results.arms, key=lambda arm: ARMS.index(arm) if arm in ARMS else len(ARMS))


def _model_name(results: Results) -> str:
    return Path(results.model).name or results.model


def comparison_document(results: Results) -> Document:
    return Document(f"Comparison: {_model_name(results)}", comparison_sections(results))


def comparison_markdown(results: Results) -> str:
    """What `metrics.md` holds (and `ftadvisor compare` prints)."""
    return render_markdown(comparison_document(results))


def comparison_sections(results: Results, level: int = 2) -> list[Section]:
    sections = [
        Section("What the evidence shows", _evidence_blocks(results), level),
        Section("Metrics", _metric_blocks(results), level),
        Section("Retrieval hits against right answers", _retrieval_blocks(results), level),
        Section("How sure", _how_sure_blocks(results), level),
        Section("Task-aware scorers", _scorer_blocks(results), level),
        *(_training_section(t, results, level) for t in results.trainings.values()),
        *_cost_sections(results, level),
        Section("Notes", [Bullets(list(results.notes))] if results.notes else [], level),
    ]
    return [s for s in sections if s.blocks]


def _evidence_blocks(results: Results) -> list[Block]:
    blocks: list[Block] = [Paragraph(results.evidence.paragraph, "evidence")] if results.evidence else []
    generation = results.generation
    how = []
    if "greedy" in generation:
        how.append("greedy decoding" if generation["greedy"] else
                   f"sampling at temperature {generation.get('temperature')}")
    if generation.get("max_new_tokens"):
        how.append(f"at most {generation['max_new_tokens']} new tokens an answer")
    run = Path(results.run_dir).name
    blocks.append(Paragraph(
        f"{_model_name(results)}: {results.eval_examples} held-out questions (trained on {results.train_examples}), "
        f"seed {results.seed}, {', '.join(how + [f'k={results.k}'])}, the same settings for every arm; run {run}."))
    label = chart_metric(results)[0]
    blocks.append(Chart(f"{label} against serving cost per 1k queries", partial(quality_cost_chart, results),
                        md_note=f"the picture is in the HTML and PDF reports and on the Compare page (run {run})",
                        caption="Each arm: its score against its serving cost (up and to the left is better; the star "
                        "is the best arm)."))
    return blocks


def _filled(columns: list[Column], rows: list[list[Cell]]) -> Table:
    """The table less the columns after the first that no row has a figure in (hit@k without
    retrieval, perplexity without a fine-tune)."""
    keep = [i for i in range(len(columns)) if i == 0 or any(row[i] is not None for row in rows)]
    return Table([columns[i] for i in keep], [[row[i] for i in keep] for row in rows])


def metric_table(results: Results) -> Table:
    """Arms x metrics: each task-aware scorer's mean (compare.ranking.SCORER_LABELS), then every
    metric of METRICS that some arm has."""
    scorers = [(Column(SCORER_LABELS.get(s, s), SCORE), _scorer_mean(s)) for s in results.scorers]
    return _arm_table(results, [*scorers, *METRICS])


def _speed_table(results: Results) -> Table:
    """Arms x what an answer takes (latency, tokens) and the fine-tune's perplexity, where some arm has it."""
    return _arm_table(results, list(SPEED_AND_FORGETTING))


def _scorer_mean(scorer: str) -> Callable[[ArmMetrics], float | None]:
    return lambda m: m.scores[scorer].mean if scorer in m.scores else None


def _arm_table(results: Results, metrics: list[Metric]) -> Table:
    rows = [[_title(a), *(read(results.arms[a]) for _, read in metrics)] for a in ordered_arms(results)]
    return _filled([Column("arm"), *(column for column, _ in metrics)], rows)


def _metric_blocks(results: Results) -> list[Block]:
    notes = ["correct: the answer states the reference (or one it lists); format match: how closely the answers' "
             "length takes the references' (1 = as long), apart from whether they are right; length x ref: median "
             "answer length over the reference's."]
    notes += [f"hit@k: {results.hit_definition}"] if results.hit_definition else []
    basis = next((m.latency_basis for m in results.arms.values() if m.latency_basis), "")
    after = [f"Latency: {basis}, on the machine that ran the comparison."] if basis else []
    if any(m.perplexity_after is not None for m in results.arms.values()):
        after.append("perplexity: the base model's, then the fine-tuned model's, on the same general text (higher "
                     "after: the fine-tune made the model forget some of it).")
    return [metric_table(results), *(Paragraph(n, "note") for n in notes),
            _speed_table(results), *(Paragraph(n, "note") for n in after)]


def _retrieval_blocks(results: Results) -> list[Block]:
    """Each retrieval arm's questions by (passage found, answer right)."""
    arms = [a for a in ordered_arms(results) if results.arms[a].retrieval_split]
    if not arms:
        return []
    rows = [[_title(a), *(getattr(results.arms[a].retrieval_split, f)
                             for f in ("hit_correct", "hit_wrong", "miss_correct", "miss_wrong"))] for a in arms]
    return [Paragraph("Held-out questions by whether the retriever found the answer's passage and whether the answer "
                      "was right: fix the retriever, or the model?"),
            table(["arm", "found, right", "found, wrong", "missed, right", "missed, wrong"], rows)]


def _how_sure_blocks(results: Results) -> list[Block]:
    """The best arm against each other arm on the ranking metric: difference, interval, McNemar p."""
    ev = results.evidence
    if ev is None or not ev.versus_best:
        return []
    versus = [(a, ev.versus_best[a]) for a in ordered_arms(results) if a in ev.versus_best]
    rows = [[_title(a), c.difference, f"{c.ci_low:+.3f} to {c.ci_high:+.3f}", c.mcnemar_p,
             "yes" if c.clear else "no", c.questions_needed] for a, c in versus]
    columns = [Column("arm"), Column("difference", "{:+.3f}"), Column("95% interval"), Column("McNemar p", "{:.3g}"),
               Column("beyond the noise"), Column("questions to separate")]
    return [Paragraph(f"{_title(ev.best_arm)} against each arm on {ev.metric_label}, paired over the same questions "
                      "(95% bootstrap interval of the difference; McNemar for 0/1 scores)."),
            _filled(columns, rows)]


def _scorer_blocks(results: Results) -> list[Block]:
    """Per scorer, the answers it failed, timed out on or left out, per arm; the database it ran on."""
    blocks: list[Block] = []
    for s in results.scorers:
        arms = [a for a in ordered_arms(results) if s in results.arms[a].scores]
        rows = [[_title(a), x.errors, x.timeouts, x.excluded] for a in arms
                for x in [results.arms[a].scores[s]]]
        blocks += [Paragraph(f"{SCORER_LABELS.get(s, s)}: an error or a timeout scores 0; excluded answers are not "
                             "scored (answers.jsonl has each verdict and error)."),
                   table(["arm", "errors", "timeouts", "excluded"], rows)]
    db = results.database
    if blocks and db is not None and db.embedded:
        blocks.append(Paragraph(f"Database: a private PostgreSQL started in {db.start_s or 0:.1f} s, {len(db.load_s)} "
                                f"dumps loaded in {sum(db.load_s.values()):.1f} s; {db.queries} queries in "
                                f"{db.query_s:.1f} s."))
    return blocks


def _figure(value: float | None, fmt: str | Callable[[float], str], then: str = "") -> str | None:
    """`value` printed by `fmt`, then `then`; None (a missing figure) when there is no value."""
    return None if value is None else (fmt(value) if callable(fmt) else fmt.format(value)) + then


def _seconds(value: float) -> str:
    return f"{value:,.1f}" if value >= 1 else f"{value:.3g}"


def _training_section(t: TrainingFigures, results: Results, level: int) -> Section:
    """One adapter's training, measured on this machine against the estimator's figures."""
    gpu = results.costs.gpu if results.costs else "the chosen GPU"
    arms = ", ".join(_title(a) for a in t.arms) or "the fine-tuned arms"
    kind = f" ({t.measured_kind})" if t.measured_kind else ""
    error = f" ({t.estimate_error_pct:+.0f}%)" if t.estimate_error_pct is not None else ""
    seconds_at_gpu = t.estimated_hours_at_gpu * 3600 if t.estimated_hours_at_gpu is not None else None
    rows = [
        ["peak memory, this machine (GiB)", _figure(t.measured_peak_gib, "{:.2f}", kind),
         _figure(t.estimated_peak_gib, "{:.2f}", error)],
        [f"peak memory at {gpu} (GiB)", None, _figure(t.estimated_peak_gib_at_gpu, "{:.2f}")],
        ["training time (s)", _figure(t.seconds, _seconds, " (this machine)"),
         _figure(seconds_at_gpu, _seconds, f" ({gpu})")],
        [f"training cost at {gpu}", _figure(t.cost_usd, usd), _figure(t.estimated_cost_usd, usd)],
    ]
    what = (f"{t.method} on {t.prompts} prompts, {t.steps} steps{of_epochs(t)} on {t.train_examples} examples"
            + (f"; its folder: {Path(t.run_dir).name}" if t.run_dir else "") + ".")
    blocks: list[Block] = [Paragraph(what), table(["figure", "measured", "estimated"], rows)]
    return Section(f"Training: the adapter of {arms}", blocks, level)


def _cost_sections(results: Results, level: int) -> list[Section]:
    """The serving cost per 1k queries and the one-off cost of each arm, and the volumes after
    which an arm that costs more up front costs less in total (compare.costs.break_even)."""
    c = results.costs
    if c is None:
        return []
    if c.usd_per_hour is None:
        why = c.price_source or f"no price for {c.gpu}"
        return [Section(f"Cost at {c.gpu}", [Paragraph(f"No serving cost: {why}.")], level)]
    arms = [a for a in ordered_arms(results) if a in c.arms]
    columns = [Column("arm"), Column("per 1k queries", usd), Column("one-off (index, training)", usd),
               Column("prompt tokens", "{:,.0f}"), Column("answer tokens", "{:,.0f}")]
    rows = [[_title(a), x.per_1k_queries_usd, x.fixed_usd, x.prompt_tokens, x.output_tokens]
            for a in arms for x in [c.arms[a]]]
    blocks: list[Block] = [Paragraph(c.basis), _filled(columns, rows)]
    if c.break_even:
        blocks.append(Bullets([b.note for b in c.break_even]))
    return [Section(f"Cost at {c.gpu} (${c.usd_per_hour:.2f}/h)", blocks, level)]
