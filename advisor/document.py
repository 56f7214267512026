"""The advisor's report as one document (report.Document): sections of paragraphs, bullet lists,
tables, commands and charts. `build_document` writes it once from the answers, the recommendation
and, when given, a comparison run's results, whose sections are the comparison's one view
(compare.view); report's renderers (Markdown, HTML, PDF) only lay it out."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from advisor.answers import NEED_LABELS, Answers
from advisor.chart import memory_chart
from advisor.recommendation import MethodFit, Reason, Recommendation
from advisor.text import gib, hours, method_label, money, sharding_words
from common.vocabulary import APPROACH_LABELS, METHOD_LABELS
from report import Block, Bullets, Chart, Commands, Document, Paragraph, Section, Table, table

if TYPE_CHECKING:
    from compare.results import Results


def memory_figure(fits: list[MethodFit], chart_title: str) -> Chart:
    return Chart(chart_title, partial(memory_chart, fits, title=chart_title))


def build_document(a: Answers, rec: Recommendation, comp: Results | None) -> Document:
    sections = [
        Section("Recommendation", _recommendation_blocks(a, rec)),
        Section("Why", [Bullets([reason_line(r) for r in rec.reasons if r.supports])]),
    ]
    against = [reason_line(r) for r in rec.reasons if not r.supports]
    if against:
        sections.append(Section("Also weighed", [Bullets(against)]))
    if rec.warnings:
        sections.append(Section("Warnings", [Bullets(list(rec.warnings))]))
    if rec.what_would_change_it:
        sections.append(Section("What would change it", [Bullets([c.text for c in rec.what_would_change_it])]))
    sections.append(Section("Estimated memory, time and cost", _estimate_blocks(rec)))
    sections.append(Section("Next steps", _step_blocks(rec)))
    if comp is not None:
        from compare.view import comparison_sections

        sections.append(Section("Comparison results", []))
        sections += comparison_sections(comp, level=3)
    sections.append(Section("Your answers", [_answers_table(a)]))
    sections.append(Section("Assumptions and sources", _source_blocks(rec)))
    return Document(f"ftadvisor report: {rec.headline.rstrip('.')}", sections)


def _generated() -> str:
    from datetime import date
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("ftadvisor")
    except PackageNotFoundError:
        v = "dev"
    return f"Generated on {date.today().isoformat()} by ftadvisor {v}."


def _recommendation_blocks(a: Answers, rec: Recommendation) -> list[Block]:
    blocks: list[Block] = [Paragraph(_generated())]
    if a.use_case:
        blocks.append(Paragraph(f"Use case: {a.use_case}"))
    blocks.append(Paragraph(f"Recommendation: {rec.headline}.", "headline"))
    facts = [f"Primary approach: {APPROACH_LABELS[rec.primary]} (`{rec.primary}`)"]
    if rec.combine_with:
        facts.append("Combined with: " + ", ".join(APPROACH_LABELS[c] for c in rec.combine_with))
    if rec.recipe:
        facts.append(f"Training recipe: {rec.recipe.upper()}" + (" then DPO" if rec.then_dpo else ""))
    if rec.distill is not None:
        d = rec.distill
        facts.append(f"Distillation: {d.teacher} (teacher) -> {d.student} (student) on {d.labels:,} labels")
    facts += [f"Ruled out: {APPROACH_LABELS[k]}: {why}" for k, why in rec.ruled_out.items()]
    blocks.append(Bullets(facts))
    order = sorted(rec.scores.items(), key=lambda kv: -kv[1])
    blocks.append(table(["approach", "score", "ruled out"],
                        [[APPROACH_LABELS[k], f"{v:+.1f}", "yes" if k in rec.ruled_out else ""] for k, v in order]))
    return blocks


def reason_line(r: Reason) -> str:
    line = f"{r.text} (answers: {', '.join(r.answers) or '-'}; source: {r.source_title or r.source})"
    if r.correction:
        by = f", per {r.correction_source_title}" if r.correction_source_title else ""
        line += f" Correction of the source{by}: {r.correction}"
    return line


def fit_row(f: MethodFit) -> list[str]:
    where_ = "-" if f.gpu is None else f"{f.gpus} x {f.gpu}" + (" (rented)" if f.rented else "")
    return [METHOD_LABELS.get(f.method, f.method), where_, sharding_words(f.sharding, f.gpus) or "-",
            gib(f.total_gib), "yes" if f.fits else "no", hours(f.time_hours),
            money(f.cost_usd) + (" (over budget)" if f.over_budget else "")]


FIT_HEADERS = ["method", "GPUs", "sharding", "GiB per GPU", "fits", "hours", "cost"]


def _estimate_blocks(rec: Recommendation) -> list[Block]:
    blocks: list[Block] = []
    plan, serving = rec.finetune, rec.serving
    if plan is not None:
        f = plan.fit
        how = sharding_words(f.sharding, f.gpus)
        blocks.append(
            Paragraph(
                f"{method_label(plan.method)} of {plan.model} ({plan.params_total / 1e9:.2f} B parameters, "
                f"{plan.params_trainable:,} "
                f"trainable), {plan.recipe.upper()} on {plan.examples:,} {plan.data_kind}, on {f.gpus} x "
                f"{f.gpu or 'no GPU'}{f' ({how})' if how else ''}: {f.total_gib:.1f} GiB per GPU"
                + ("" if f.fits else " - does NOT fit")
                + "."
            )
        )
        blocks.append(Paragraph(plan_summary(plan)))
        blocks.append(table(["component", "GiB per GPU"], _breakdown_rows(f)))
        blocks.append(memory_figure(plan.alternatives, "Estimated memory per GPU for each method"))
        blocks.append(table(FIT_HEADERS, [fit_row(x) for x in plan.alternatives]))
        if plan.dpo_stage is not None:
            blocks.append(Paragraph("The DPO stage after SFT, on the preference pairs:"))
            blocks.append(table(FIT_HEADERS, [fit_row(plan.dpo_stage)]))
        if plan.gpu_table:
            blocks.append(Paragraph(f"Which GPUs fit {METHOD_LABELS[plan.method]} (cheapest first):"))
            blocks.append(table(
                ["GPU", "GPUs needed", "GiB per GPU", "hours", "cost", "note"],
                [[r.gpu, str(r.gpus or "-"), gib(r.total_gib), hours(r.time_hours), money(r.cost_usd), r.note]
                 for r in plan.gpu_table],
            ))
    if serving is not None:
        how = sharding_words(serving.sharding, serving.gpus)
        how = "weights split over the GPUs" if serving.sharding != "none" and serving.gpus > 1 else how
        blocks.append(Paragraph(
            f"Serving (inference, one sequence of {serving.seq_len or '-'} tokens) on {serving.gpus} x "
            f"{serving.gpu or 'no GPU'}{f' ({how})' if how else ''}: {serving.total_gib:.1f} GiB per GPU"
            + ("" if serving.fits else " - does NOT fit") + "."
        ))
        if plan is None:
            blocks.append(table(["component", "GiB per GPU"], _breakdown_rows(serving)))
            blocks.append(memory_figure([serving], "Estimated memory to serve the model"))
    return blocks or [Paragraph("No estimate (the estimator was not consulted).")]


def plan_summary(plan) -> str:
    """The training setup in one line (page and report)."""
    adapter = (f"LoRA rank {plan.lora_rank} on {plan.lora_targets.replace('-', ' ')} layers"
               + (", base in NF4" if plan.quant == "nf4" else "") + ", " if plan.lora_rank else "")
    how = sharding_words(plan.sharding, plan.fit.gpus)
    gpus = f"{plan.fit.gpus} GPUs ({how})" if how else "1 GPU"
    return (f"Setup: {adapter}{plan.precision} compute, learning rate {plan.learning_rate:g}, "
            f"{plan.epochs} epochs, sequence length {plan.seq_len}, micro-batch {plan.batch_size} "
            f"x {plan.grad_accum} accumulation steps, gradient checkpointing, {gpus}; "
            f"{plan.train_tokens:,} tokens per epoch.")


def _breakdown_rows(f: MethodFit) -> list[list[str]]:
    from advisor.chart import COMPONENTS

    rows = [[label, f"{f.memory_gib[k]:.2f}"] for k, label in COMPONENTS.items()
            if f.memory_gib.get(k, 0.0) > 0.0005]
    rows.append(["total", f"{f.total_gib:.2f}"])
    return rows


def _step_blocks(rec: Recommendation) -> list[Block]:
    blocks: list[Block] = []
    for i, s in enumerate(rec.next_steps, 1):
        blocks.append(Paragraph(f"{i}. {s.title}" + (f" {s.detail}" if s.detail else "")))
        if s.command:
            blocks.append(Commands([s.command]))
    return blocks


def _answers_table(a: Answers) -> Table:
    rows = []
    for name, info in Answers.model_fields.items():
        value = getattr(a, name)
        if name == "needs":
            value = "; ".join(NEED_LABELS[n] for n in value) or "none"
        elif value is None:
            value = "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        rows.append([name, info.description or "", str(value)])
    return table(["answer", "question", "value"], rows)


def source_lines(rec: Recommendation) -> list[str]:
    """`Title (kind; where): claim | claim` for every source."""
    return [f"{s.title} ({s.kind}; {s.where}): " + " | ".join(s.claims) for s in rec.sources]


def _source_blocks(rec: Recommendation) -> list[Block]:
    blocks: list[Block] = []
    if rec.assumptions:
        blocks += [Paragraph("Assumptions:"), Bullets(list(rec.assumptions))]
    blocks.append(Paragraph("Sources and what the advice takes from each (in our words):"))
    blocks.append(Bullets(source_lines(rec)))
    corrections = [f"{r.rule} ({r.source_title}): {r.correction}" + (
        f" (per {r.correction_source_title})" if r.correction_source_title else "")
        for r in rec.reasons if r.correction]
    if corrections:
        blocks += [Paragraph("Where a source is wrong:"), Bullets(corrections)]
    return blocks
