"""The report to hand to the team: `render_report(answers, recommendation, fmt, comparison)`.

The document (`advisor.document`) is built once and rendered by report's md, html and pdf
renderers; json dumps the data. `summary_text` is the terminal form (`ftadvisor advise`)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, get_args

from advisor.answers import Answers
from advisor.comparison import comparison_json, load_comparison
from advisor.document import build_document, reason_line
from advisor.errors import AdvisorError
from advisor.recommendation import Recommendation
from advisor.text import duration, money, sharding_words
from report import render_html, render_markdown, render_pdf

if TYPE_CHECKING:
    from compare.results import Results

ReportFormat = Literal["md", "html", "pdf", "json"]  # the documents, then the data
FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)
MEDIA_TYPES: dict[ReportFormat, str] = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf",
                                         "json": "application/json"}


def render_report(
    answers: Answers, recommendation: Recommendation, fmt: str, comparison: Any = None
) -> bytes:
    """The report as bytes in `fmt` (md, html, json or pdf). `comparison`: a comparison run's
    folder or results.json path, their dict, or its `compare.results.Results`."""
    if fmt not in FORMATS:
        raise AdvisorError(f"--format: must be one of {', '.join(FORMATS)}, got {fmt!r}")
    comp = load_comparison(comparison)
    if fmt == "json":
        return report_json(answers, recommendation, comp)
    doc = build_document(answers, recommendation, comp)
    if fmt == "md":
        return render_markdown(doc).encode("utf-8")
    if fmt == "html":
        return render_html(doc)
    return render_pdf(doc)


def report_json(answers: Answers, rec: Recommendation, comp: Results | None) -> bytes:
    data = {
        "schema_version": 1,
        "answers": answers.model_dump(mode="json"),
        "recommendation": rec.model_dump(mode="json"),
        "comparison": comparison_json(comp) if comp is not None else None,
    }
    return (json.dumps(data, indent=2) + "\n").encode("utf-8")


def summary_text(rec: Recommendation) -> str:
    """The recommendation as plain text for a terminal (`ftadvisor advise`)."""
    out = [f"Recommendation: {rec.headline}", f"  ({rec.label()})", "",
           "Scores: " + ", ".join(f"{k} {v:+.1f}" + (" (ruled out)" if k in rec.ruled_out else "")
                                  for k, v in sorted(rec.scores.items(), key=lambda kv: -kv[1])), "", "Why:"]
    out += [f"  - {reason_line(r)}" for r in rec.reasons if r.supports]
    against = [r for r in rec.reasons if not r.supports]
    if against:
        out += ["", "Also weighed:"] + [f"  - {reason_line(r)}" for r in against]
    if rec.warnings:
        out += ["", "Warnings:"] + [f"  ! {w}" for w in rec.warnings]
    if rec.finetune is not None:
        f = rec.finetune.fit
        how = sharding_words(f.sharding, f.gpus)
        out += ["", f"Estimate: {f.method} on {f.gpus} x {f.gpu or '-'}{f' ({how})' if how else ''}: "
                f"{f.total_gib:.1f} GiB per GPU, fits: {'yes' if f.fits else 'no'}, "
                f"{duration(f.time_hours)}, {money(f.cost_usd)}"]
    if rec.what_would_change_it:
        out += ["", "What would change it:"] + [f"  - {c.text}" for c in rec.what_would_change_it]
    if rec.next_steps:
        out += ["", "Next steps:"]
        for i, s in enumerate(rec.next_steps, 1):
            out.append(f"  {i}. {s.title}")
            if s.command:
                out.append(f"     $ {s.command}")
    if rec.sources:
        out += ["", "Sources:"] + [f"  - {s.title} ({s.where})" for s in rec.sources]
    return "\n".join(out) + "\n"

