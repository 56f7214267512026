"""`ftadvisor data check FILE`: validate a tuning dataset and print its DatasetReport.

`add_mapping_arguments` / `mapping_from_args` are shared with `tune` and `compare`, which take
the same --prompt-field/--completion-field/... flags."""
from __future__ import annotations

import argparse
import sys

from common import flags
from common.text import one_line
from common.vocabulary import RECIPES
from tuning.data.readers import DATA_SUFFIXES

# FieldMapping field -> help (the flag: common.flags.MAPPING)
_MAPPING_HELP = {
    "prompt_field": "column holding the prompt (e.g. question)",
    "completion_field": "column holding the answer to train on (e.g. query)",
    "messages_field": "column holding a chat: a list of {role, content} (JSON text in CSV)",
    "system_field": "column holding a system prompt",
    "chosen_field": "column holding the preferred answer (DPO)",
    "rejected_field": "column holding the rejected answer (DPO)",
    "prompt_template": "build the prompt from columns, e.g. '{question}\\n-- database: {db_name}'",
}


def add_mapping_arguments(parser: argparse.ArgumentParser) -> None:
    """The column-mapping flags, for files whose columns are not a recognised shape."""
    group = parser.add_argument_group("column mapping (for columns that are not a recognised shape)")
    for name, help_text in _MAPPING_HELP.items():
        group.add_argument(flags.MAPPING[name], dest=name, metavar="COLUMN" if name != "prompt_template"
                           else "TEMPLATE", help=help_text)


def mapping_from_args(args: argparse.Namespace):
    """A FieldMapping from the flags, or None when none was given."""
    from tuning.data import FieldMapping

    given = {name: getattr(args, name) for name in _MAPPING_HELP if getattr(args, name, None)}
    return FieldMapping(**given) if given else None


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="check a tuning dataset", description=__doc__.split("\n\n")[0])
    sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    check = sub.add_parser(
        "check",
        help="validate a dataset and print its report (exit 2 when it fails)",
        description=f"Read FILE ({', '.join(DATA_SUFFIXES)}), recognise or map its shape, and report "
        "problems (file, line, field), lengths, duplicates, near-duplicates and the train/eval split.",
    )
    check.add_argument("file", metavar="FILE", help="the dataset")
    add_mapping_arguments(check)
    check.add_argument("--kind", choices=RECIPES, default="sft", help="training kind (default: sft)")
    check.add_argument("--seq-len", type=int, default=512, metavar="N", help="max sequence length (default: 512)")
    check.add_argument("--model", metavar="M", help="model folder or hub id whose tokenizer counts tokens "
                       "(default: whitespace words, an approximation)")
    check.add_argument("--eval-fraction", type=float, default=0.1, metavar="F", help="held-out share (default: 0.1)")
    check.add_argument("--seed", type=int, default=42, help="split seed (default: 42)")
    check.add_argument("--near-dup-threshold", type=float, default=0.9, metavar="C",
                       help="cosine similarity from which two examples are near-duplicates (default: 0.9)")
    check.add_argument("--no-near-dup", dest="near_dup", action="store_false",
                       help="skip the near-duplicate check (it loads the embedding model, ~10 s)")
    check.add_argument("--max-problems", type=int, default=50, metavar="N", help="problems listed (default: 50)")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    from tuning.data import validate_dataset

    report = validate_dataset(
        args.file, mapping_from_args(args), kind=args.kind, tokenizer=args.model, max_seq_len=args.seq_len,
        near_dup=args.near_dup, near_dup_threshold=args.near_dup_threshold, eval_fraction=args.eval_fraction,
        seed=args.seed, max_problems=args.max_problems,
        on_notice=lambda line: print(f"ftadvisor data: note: {line}", file=sys.stderr, flush=True),
    )
    print(report.model_dump_json(indent=2) if args.json else report.to_markdown().rstrip("\n"))
    if not report.ok:  # the problems are in the report; stderr says why the exit status is 2
        print(f"ftadvisor data: error: {one_line(report.file)}: {report.problems_total} problem(s) block training",
              file=sys.stderr)
        return 2
    return 0
