"""The report to hand to the team: `render_report(answers, recommendation, fmt, comparison)`.

One neutral document (sections of paragraphs, bullet lists, tables, commands and a chart) is
built once by `build_document`; md, html and pdf render it, json dumps the data."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.answers import NEED_LABELS, Answers
from advisor.errors import AdvisorError
from advisor.recommendation import APPROACH_LABELS, MethodFit, Recommendation

FORMATS: tuple[str, ...] = ("md", "html", "json", "pdf")
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "json": "application/json",
               "pdf": "application/pdf"}
# Comparison columns shown first, in this order (others follow).
COMPARISON_METRICS = ("exact_match", "token_f1", "rouge_l", "hit_at_k", "latency_p50_s",
                      "latency_p95_s", "cost_per_1k_queries_usd")


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Commands:
    lines: list[str]


@dataclass
class Chart:
    fits: list[MethodFit]
    title: str


@dataclass
class Section:
    title: str
    # Each block: str (paragraph), list[str] (bullets), Table, Commands or Chart.
    blocks: list[Any] = field(default_factory=list)


def render_report(
    answers: Answers, recommendation: Recommendation, fmt: str, comparison: Any = None
) -> bytes:
    """The report as bytes in `fmt` (md, html, json or pdf). `comparison`: a comparison run's
    folder or results.json path, its loaded dict, or an object with `model_dump()`."""
    if fmt not in FORMATS:
        raise AdvisorError(f"--format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    comp = load_comparison(comparison)
    if fmt == "json":
        return report_json(answers, recommendation, comp)
    doc = build_document(answers, recommendation, comp)
    if fmt == "md":
        return render_markdown(doc).encode("utf-8")
    if fmt == "html":
        from advisor.report_html import render_html

        return render_html(doc)
    from advisor.report_pdf import render_pdf

    return render_pdf(doc)


def report_json(answers: Answers, rec: Recommendation, comp: dict | None) -> bytes:
    data = {
        "schema_version": 1,
        "answers": answers.model_dump(mode="json"),
        "recommendation": rec.model_dump(mode="json"),
        "comparison": comp,
    }
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def load_comparison(comparison: Any) -> dict | None:
    """A comparison run's results as a dict with `arms` {name: {metric: value}}."""
    if comparison is None:
        return None
    if isinstance(comparison, (str, Path)):
        path = Path(comparison)
        if path.is_dir():
            path = path / "results.json"
        try:
            comparison = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AdvisorError(f"--comparison: no results.json at {path} (has the run finished?)") from None
        except json.JSONDecodeError as exc:
            raise AdvisorError(f"--comparison: {path}: malformed JSON at line {exc.lineno}, "
                               f"column {exc.colno}: {exc.msg}") from None
    elif hasattr(comparison, "model_dump"):
        comparison = comparison.model_dump(mode="json")
    if not isinstance(comparison, dict) or not isinstance(comparison.get("arms"), dict):
        raise AdvisorError("--comparison: expected results with an `arms` object (arm name -> metrics)")
    return comparison


# -- the document --------------------------------------------------------------------------


def build_document(a: Answers, rec: Recommendation, comp: dict | None) -> list[Section]:
    sections = [
        Section("Recommendation", _recommendation_blocks(a, rec)),
        Section("Why", [[_reason_line(r) for r in rec.reasons if r.supports]]),
    ]
    against = [_reason_line(r) for r in rec.reasons if not r.supports]
    if against:
        sections.append(Section("Also weighed", [against]))
    if rec.warnings:
        sections.append(Section("Warnings", [list(rec.warnings)]))
    if rec.what_would_change_it:
        sections.append(Section("What would change it", [[c.text for c in rec.what_would_change_it]]))
    sections.append(Section("Estimated memory, time and cost", _estimate_blocks(a, rec)))
    sections.append(Section("Next steps", _step_blocks(rec)))
    if comp is not None:
        sections.append(Section("Comparison results", comparison_blocks(comp)))
    sections.append(Section("Your answers", [_answers_table(a)]))
    sections.append(Section("Assumptions and sources", _source_blocks(rec)))
    return sections


def title(headline: str) -> str:
    return f"ftadvisor report: {headline}"


def _generated() -> str:
    from datetime import date
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("ftadvisor")
    except PackageNotFoundError:
        v = "dev"
    return f"Generated on {date.today().isoformat()} by ftadvisor {v}."


def _recommendation_blocks(a: Answers, rec: Recommendation) -> list[Any]:
    blocks: list[Any] = [_generated()]
    if a.use_case:
        blocks.append(f"Use case: {a.use_case}")
    blocks.append(f"Recommendation: {rec.headline}.")
    facts = [f"Primary approach: {APPROACH_LABELS[rec.primary]} (`{rec.primary}`)"]
    if rec.combine_with:
        facts.append("Combined with: " + ", ".join(APPROACH_LABELS[c] for c in rec.combine_with))
    if rec.recipe:
        facts.append(f"Training recipe: {rec.recipe.upper()}")
    blocks.append(facts)
    order = sorted(rec.scores.items(), key=lambda kv: -kv[1])
    blocks.append(Table(["approach", "score"], [[APPROACH_LABELS[k], f"{v:+.1f}"] for k, v in order]))
    return blocks


def _reason_line(r) -> str:
    line = f"{r.text} (answers: {', '.join(r.answers) or '-'}; source: {r.source})"
    if r.correction:
        line += f" Correction of the source: {r.correction}"
    return line


def _gib(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _usd(v: float | None) -> str:
    return "-" if v is None else f"${v:,.2f}" if v < 100 else f"${v:,.0f}"


def _hours(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}" if v < 10 else f"{v:,.0f}"


def _fit_row(f: MethodFit) -> list[str]:
    where = "-" if f.gpu is None else f"{f.gpus} x {f.gpu}" + (" (rented)" if f.rented else "")
    return [f.method, where, _gib(f.total_gib), "yes" if f.fits else "no", _hours(f.time_hours),
            _usd(f.cost_usd) + (" (over budget)" if f.over_budget else "")]


def _estimate_blocks(a: Answers, rec: Recommendation) -> list[Any]:
    blocks: list[Any] = []
    plan, serving = rec.finetune, rec.serving
    if plan is not None:
        f = plan.fit
        blocks.append(
            f"{plan.method.upper() if plan.method != 'full' else 'Full fine-tuning'} of {plan.model} "
            f"({plan.params_total / 1e9:.2f} B parameters, {plan.params_trainable:,} trainable), "
            f"{plan.recipe.upper()}, on {f.gpus} x {f.gpu or 'no GPU'}: {f.total_gib:.1f} GiB per GPU"
            + ("" if f.fits else " - does NOT fit") + "."
        )
        blocks.append(plan_summary(plan))
        blocks.append(Table(["component", "GiB per GPU"], _breakdown_rows(f)))
        blocks.append(Chart(plan.alternatives, "Estimated memory per GPU for each method"))
        blocks.append(Table(["method", "GPUs", "GiB per GPU", "fits", "hours", "cost"],
                            [_fit_row(x) for x in plan.alternatives]))
        if plan.gpu_table:
            blocks.append(f"Which GPUs fit {plan.method.upper()} (cheapest first):")
            blocks.append(Table(
                ["GPU", "GPUs needed", "GiB per GPU", "hours", "cost", "note"],
                [[r.gpu, str(r.gpus or "-"), _gib(r.total_gib), _hours(r.time_hours),
                  _usd(r.cost_usd), r.note] for r in plan.gpu_table],
            ))
    if serving is not None:
        blocks.append(
            f"Serving {a.model} (inference, batch 1, {serving.gpus} x {serving.gpu or 'no GPU'}): "
            f"{serving.total_gib:.1f} GiB per GPU" + ("" if serving.fits else " - does NOT fit") + "."
        )
        if plan is None:
            blocks.append(Table(["component", "GiB per GPU"], _breakdown_rows(serving)))
            blocks.append(Chart([serving], "Estimated memory to serve the model"))
    return blocks or ["No estimate (the estimator was not consulted)."]


def plan_summary(plan) -> str:
    """The training setup in one line (page and report)."""
    adapter = (f"LoRA rank {plan.lora_rank} on {plan.lora_targets.replace('-', ' ')} layers"
               + (", base in NF4" if plan.quant == "nf4" else "") + ", " if plan.lora_rank else "")
    return (f"Setup: {adapter}{plan.precision} compute, learning rate {plan.learning_rate:g}, "
            f"{plan.epochs} epochs, sequence length {plan.seq_len}, micro-batch {plan.batch_size} "
            f"x {plan.grad_accum} accumulation steps, gradient checkpointing; "
            f"{plan.train_tokens:,} tokens per epoch.")


def _breakdown_rows(f: MethodFit) -> list[list[str]]:
    from advisor.chart import COMPONENTS

    rows = [[label, f"{f.memory_gib[k]:.2f}"] for k, label in COMPONENTS.items()
            if f.memory_gib.get(k, 0.0) > 0.0005]
    rows.append(["total", f"{f.total_gib:.2f}"])
    return rows


def _step_blocks(rec: Recommendation) -> list[Any]:
    blocks: list[Any] = []
    for i, s in enumerate(rec.next_steps, 1):
        blocks.append(f"{i}. {s.title}" + (f" {s.detail}" if s.detail else ""))
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
    return Table(["answer", "question", "value"], rows)


def _source_blocks(rec: Recommendation) -> list[Any]:
    blocks: list[Any] = []
    if rec.assumptions:
        blocks += ["Assumptions:", list(rec.assumptions)]
    blocks.append("Sources (the seed texts in ../shared/seeds/ and the estimator) and the claims used:")
    blocks.append([f"{s.file}: " + " | ".join(f'"{c}"' for c in s.claims) for s in rec.sources])
    corrections = [f"{r.rule} ({r.source}): {r.correction}" for r in rec.reasons if r.correction]
    if corrections:
        blocks += ["Where a source is wrong:", corrections]
    return blocks


def comparison_blocks(comp: dict) -> list[Any]:
    """The comparison run's metric table (arms x metrics); kept small so the comparison's
    own code can call it."""
    arms: dict[str, dict] = comp["arms"]
    present = {k for m in arms.values() for k, v in m.items() if isinstance(v, (int, float))}
    cols = [c for c in COMPARISON_METRICS if c in present]
    cols += sorted(present - set(cols) - {"questions", "k"})[: max(0, 9 - len(cols))]
    rows = [[name] + [_num(m.get(c)) for c in cols] for name, m in arms.items()]
    blocks: list[Any] = []
    meta = [f"{k}: {comp[k]}" for k in ("model", "eval_examples", "train_examples") if k in comp]
    if meta:
        blocks.append("; ".join(meta) + ".")
    blocks.append(Table(["arm", *cols], rows))
    return blocks


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def summary_text(rec: Recommendation) -> str:
    """The recommendation as plain text for a terminal (`ftadvisor advise`)."""
    out = [f"Recommendation: {rec.headline}", f"  ({rec.label()})", "",
           "Scores: " + ", ".join(f"{k} {v:+.1f}" for k, v in
                                  sorted(rec.scores.items(), key=lambda kv: -kv[1])), "", "Why:"]
    out += [f"  - {r.text} [{', '.join(r.answers)}; {r.source}]" for r in rec.reasons if r.supports]
    against = [r for r in rec.reasons if not r.supports]
    if against:
        out += ["", "Also weighed:"] + [f"  - {r.text} [{', '.join(r.answers)}; {r.source}]" for r in against]
    if rec.warnings:
        out += ["", "Warnings:"] + [f"  ! {w}" for w in rec.warnings]
    if rec.finetune is not None:
        f = rec.finetune.fit
        out += ["", f"Estimate: {f.method} on {f.gpus} x {f.gpu or '-'}: {f.total_gib:.1f} GiB per GPU, "
                f"fits: {'yes' if f.fits else 'no'}, {_hours(f.time_hours)} h, {_usd(f.cost_usd)}"]
    if rec.what_would_change_it:
        out += ["", "What would change it:"] + [f"  - {c.text}" for c in rec.what_would_change_it]
    if rec.next_steps:
        out += ["", "Next steps:"]
        for i, s in enumerate(rec.next_steps, 1):
            out.append(f"  {i}. {s.title}")
            if s.command:
                out.append(f"     $ {s.command}")
    return "\n".join(out) + "\n"


# -- Markdown --------------------------------------------------------------------------------


def render_markdown(doc: list[Section], heading: str | None = None) -> str:
    headline = heading or _headline(doc)
    out = [f"# {title(headline)}", ""]
    for s in doc:
        out += [f"## {s.title}", ""]
        for b in s.blocks:
            out += _md_block(b) + [""]
    return "\n".join(out).rstrip() + "\n"


def _headline(doc: list[Section]) -> str:
    for b in doc[0].blocks:
        if isinstance(b, str) and b.startswith("Recommendation: "):
            return b[len("Recommendation: "):].rstrip(".")
    return "recommendation"


def _md_cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def _md_block(b: Any) -> list[str]:
    if isinstance(b, str):
        return [b]
    if isinstance(b, list):
        return [f"- {x}" for x in b]
    if isinstance(b, Table):
        return ["| " + " | ".join(b.headers) + " |", "|" + "---|" * len(b.headers)] + [
            "| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
    if isinstance(b, Commands):
        return ["```bash", *b.lines, "```"]
    if isinstance(b, Chart):
        return [f"_{b.title}: see the HTML or PDF report for the chart._"]
    raise TypeError(f"unknown block {type(b).__name__}")
