"""`ftadvisor advise` (print the recommendation) and `ftadvisor report` (write the report)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from advisor.report import FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "advise",
        help="recommend prompting, RAG, LoRA, QLoRA, full fine-tuning or a hybrid",
        description="Read the questionnaire's answers (a JSON object of Answers fields) and print "
        "the recommendation with its reasons, warnings, what would change it and next steps.",
    )
    p.add_argument("--answers", required=True, metavar="FILE", help="answers JSON file (- for stdin)")
    p.add_argument("--json", action="store_true", help="print the Recommendation as JSON")
    p.set_defaults(func=run_advise)

    r = sub.add_parser(
        "report",
        help="write the advisor's report (md, html, json or pdf)",
        description="Write the report to hand to the team: answers, recommendation, reasons, "
        "warnings, memory/cost estimates, sources, next steps, and optionally a comparison run.",
    )
    r.add_argument("--answers", required=True, metavar="FILE", help="answers JSON file (- for stdin)")
    r.add_argument("--format", choices=FORMATS, default=None,
                   help="report format (default: from the -o file's extension, else md)")
    r.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the report")
    r.add_argument("--comparison", metavar="RUN_DIR",
                   help="a completed comparison run folder (or its results.json) to include: what its evidence "
                   "shows, the picture of quality against cost per 1k queries (html, pdf), the metric table, "
                   "the costs")
    r.set_defaults(func=run_report)


def _answers(path: str):
    from advisor import load_answers, parse_answers

    return parse_answers(sys.stdin.read(), source="stdin") if path == "-" else load_answers(path)


def run_advise(args: argparse.Namespace) -> int:
    from advisor import recommend
    from advisor.report import summary_text

    answers = _answers(args.answers)
    rec = recommend(answers)
    if args.json:
        print(json.dumps(rec.model_dump(mode="json"), indent=2))
    else:
        print(summary_text(rec), end="")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from advisor import recommend, render_report

    out = Path(args.output)
    suffix = out.suffix.lstrip(".").lower()
    fmt = args.format or (suffix if suffix in FORMATS else "md")
    answers = _answers(args.answers)
    data = render_report(answers, recommend(answers), fmt, comparison=args.comparison)
    if out.parent and not out.parent.exists():
        raise FileNotFoundError(f"-o: folder {out.parent} does not exist")
    out.write_bytes(data)
    print(f"wrote {out} ({fmt}, {len(data):,} bytes)", file=sys.stderr)
    return 0
