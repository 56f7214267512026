"""`ftadvisor compare`: the base model zero-shot and few-shot, RAG, the fine-tuned model and the
hybrid on the same held-out questions, as a background run (`ftadvisor runs list|show|cancel|resume`
work on it)."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.data import add_mapping_arguments, mapping_from_args
from cli.fields import add_field_flags, given_values
from cli.follow import follow
from common import flags
from tuning.data.readers import DATA_SUFFIXES


def register(subparsers) -> None:
    from compare.scoring import ScorerSpec
    from compare.spec import ARMS, CompareSpec, FinetuneSettings, GenerationSettings, PromptingSettings, RagSettings

    parser = subparsers.add_parser(
        "compare", help="compare prompting, RAG, fine-tuning and the hybrid on your own held-out questions",
        description="Split the dataset once (seeded), index the documents (or the training answers), fine-tune a "
        "QLoRA/LoRA adapter on the training split, and answer every held-out question with each arm. Writes "
        "results.json, answers.jsonl and metrics.md in the run folder. Blocks and shows progress unless "
        "--detach; Ctrl-C leaves the run going.",
    )
    by_hand = flags.COMPARE_BY_HAND
    parser.add_argument(by_hand["data"], required=True, metavar="FILE",
                        help=f"question/answer dataset ({', '.join(DATA_SUFFIXES)})")
    add_mapping_arguments(parser)
    parser.add_argument(by_hand["docs"], nargs="+", metavar="PATH", help="documents for retrieval (files or folders); "
                        "default: the training answers become the knowledge base")
    parser.add_argument(by_hand["model"], required=True, metavar="M",
                        help="hub id, local model folder, or an offline model name (ftadvisor pull)")
    parser.add_argument(by_hand["arms"], metavar="LIST",
                        help=f"comma-separated arms (default: all of {','.join(ARMS)})")
    add_field_flags(parser, CompareSpec, flags.COMPARE_SPEC)
    add_field_flags(parser.add_argument_group("fine-tuned arms"), FinetuneSettings, flags.COMPARE_FINETUNE)
    add_field_flags(parser.add_argument_group("generation (the same for every arm)"), GenerationSettings,
                    flags.COMPARE_GENERATION)
    parser.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    add_field_flags(parser.add_argument_group("retrieval"), RagSettings, flags.COMPARE_RAG)
    add_field_flags(parser.add_argument_group("demonstrations (few-shot prompting)"), PromptingSettings,
                    flags.COMPARE_PROMPTING)
    scoring = parser.add_argument_group("task-aware scorers (next to exact match, token F1 and ROUGE-L)")
    add_field_flags(scoring, ScorerSpec, flags.COMPARE_SCORER)
    scoring.add_argument("--json-keys", metavar="KEY,KEY", help="json: top-level keys every answer must have")
    parser.add_argument(by_hand["output"], metavar="RUN_DIR",
                        help="run folder (default: a new folder in the runs root)")
    parser.add_argument("--detach", action="store_true", help="start the run and return at once")
    parser.set_defaults(func=_compare)


def spec_from_args(args: argparse.Namespace):
    """A CompareSpec from the flags; unset flags keep the spec's defaults."""
    from common.settings import load_settings
    from compare.scoring import ScorerSpec
    from compare.spec import CompareSpec, FinetuneSettings, GenerationSettings, PromptingSettings, RagSettings

    fields = given_values(args, CompareSpec, flags.COMPARE_SPEC)
    if args.docs:
        fields["docs"] = args.docs
    if args.arms:
        fields["arms"] = [arm.strip() for arm in args.arms.split(",") if arm.strip()]
    generation = given_values(args, GenerationSettings, flags.COMPARE_GENERATION)
    if args.sample:
        generation["greedy"] = False
    finetune = given_values(args, FinetuneSettings, flags.COMPARE_FINETUNE)  # alpha: 2 x rank (the spec's validator)
    scoring = given_values(args, ScorerSpec, flags.COMPARE_SCORER)
    if args.json_keys:
        scoring["json_required_keys"] = [key.strip() for key in args.json_keys.split(",") if key.strip()]
    if scoring and "names" not in scoring:
        given = ", ".join(flag for field, flag in flags.COMPARE_SCORER.items() if field in scoring) or "--json-keys"
        raise ValueError(f"--scorer: {given} set options of a scorer: name it too (--scorer json, sql-exec, "
                         "or python:FILE.py:FUNCTION)")
    if scoring:
        fields["scoring"] = scoring
    output = args.output or load_settings().new_run_dir("compare")
    return CompareSpec(data=Path(args.data), mapping=mapping_from_args(args), model=args.model, output=Path(output),
                       generation=generation, rag=given_values(args, RagSettings, flags.COMPARE_RAG),
                       finetune=finetune,
                       prompting=given_values(args, PromptingSettings, flags.COMPARE_PROMPTING),
                       **fields)


def _compare(args: argparse.Namespace) -> int:
    from compare.launch import launch_comparison

    run_dir = launch_comparison(spec_from_args(args))  # checks the data, columns and GPU first (exit 2)
    print(run_dir)
    if args.detach:
        return 0
    return follow(run_dir)  # prints metrics.md once the run completes
