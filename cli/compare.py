"""`ftadvisor compare`: the base model zero-shot and few-shot, RAG, the fine-tuned model and the
hybrid on the same held-out questions, as a background run (`ftadvisor runs list|show|cancel|resume`
work on it)."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.data import add_mapping_arguments, mapping_from_args
from cli.fields import add_field_flags, given_values
from cli.follow import follow


def register(subparsers) -> None:
    from compare.scoring import ScorerSpec
    from compare.spec import ARMS, CompareSpec, FinetuneSettings, GenerationSettings, PromptingSettings, RagSettings

    p = subparsers.add_parser(
        "compare", help="compare prompting, RAG, fine-tuning and the hybrid on your own held-out questions",
        description="Split the dataset once (seeded), index the documents (or the training answers), fine-tune a "
        "QLoRA/LoRA adapter on the training split, and answer every held-out question with each arm. Writes "
        "results.json, answers.jsonl and metrics.md in the run folder. Blocks and shows progress unless "
        "--detach; Ctrl-C leaves the run going.",
    )
    p.add_argument("--data", required=True, metavar="FILE", help="question/answer dataset (.jsonl, .json, .csv, .parquet)")
    add_mapping_arguments(p)
    p.add_argument("--docs", nargs="+", metavar="PATH", help="documents for retrieval (files or folders); "
                   "default: the training answers become the knowledge base")
    p.add_argument("--model", required=True, metavar="M",
                   help="hub id, local model folder, or an offline model name (ftadvisor pull)")
    p.add_argument("--arms", metavar="LIST", help=f"comma-separated arms (default: all of {','.join(ARMS)})")
    add_field_flags(p, CompareSpec, _SPEC_FLAGS)
    add_field_flags(p.add_argument_group("fine-tuned arms"), FinetuneSettings, _FINETUNE_FLAGS)
    add_field_flags(p.add_argument_group("generation (the same for every arm)"), GenerationSettings, _GENERATION_FLAGS)
    p.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    add_field_flags(p.add_argument_group("retrieval"), RagSettings, _RAG_FLAGS)
    add_field_flags(p.add_argument_group("demonstrations (few-shot prompting)"), PromptingSettings, _PROMPTING_FLAGS)
    scoring = p.add_argument_group("task-aware scorers (next to exact match, token F1 and ROUGE-L)")
    add_field_flags(scoring, ScorerSpec, _SCORER_FLAGS)
    scoring.add_argument("--json-keys", metavar="KEY,KEY", help="json: top-level keys every answer must have")
    p.add_argument("--output", metavar="RUN_DIR", help="run folder (default: a new folder in the runs root)")
    p.add_argument("--detach", action="store_true", help="start the run and return at once")
    p.set_defaults(func=_compare)


# field -> flag, per model (the flags are a contract; help, types and defaults come from the fields)
_SPEC_FLAGS = {"relevant_field": "--relevant-field", "eval_fraction": "--eval-fraction", "eval_count": "--eval-count",
               "seed": "--seed", "forgetting_text": "--forgetting-text", "gpu": "--gpu",
               "concurrency": "--concurrency", "primary_metric": "--primary-metric"}
_FINETUNE_FLAGS = {"method": "--method", "max_steps": "--max-steps", "epochs": "--epochs", "lora_rank": "--rank",
                   "learning_rate": "--lr", "batch_size": "--batch-size", "max_seq_len": "--seq-len",
                   "train_prompts": "--train-prompts", "cpu_step_budget": "--cpu-step-budget"}
_GENERATION_FLAGS = {"max_new_tokens": "--max-new-tokens", "temperature": "--temperature",
                     "system_prompt": "--system-prompt", "batch_size": "--answer-batch-size",
                     "latency_sample": "--latency-sample", "engine": "--engine"}
_SCORER_FLAGS = {"names": "--scorer", "json_schema": "--json-schema", "sql_db_field": "--sql-db-field",
                 "sql_url": "--sql-url", "sql_allow_superuser": "--sql-allow-superuser", "sql_timeout_s": "--sql-timeout",
                 "sql_answer_deadline_s": "--sql-answer-deadline", "sql_deadline_s": "--sql-deadline"}
_RAG_FLAGS = {"k": "--k", "chunk_size": "--chunk-size", "chunk_overlap": "--chunk-overlap", "mmr": "--mmr"}
_PROMPTING_FLAGS = {"fewshot_examples": "--fewshot-examples", "rag_examples": "--rag-examples"}


def spec_from_args(args: argparse.Namespace):
    """A CompareSpec from the flags; unset flags keep the spec's defaults."""
    from compare.scoring import ScorerSpec
    from common.settings import load_settings
    from compare.spec import CompareSpec, FinetuneSettings, GenerationSettings, PromptingSettings, RagSettings

    fields = given_values(args, CompareSpec, _SPEC_FLAGS)
    if args.docs:
        fields["docs"] = args.docs
    if args.arms:
        fields["arms"] = [a.strip() for a in args.arms.split(",") if a.strip()]
    generation = given_values(args, GenerationSettings, _GENERATION_FLAGS)
    if args.sample:
        generation["greedy"] = False
    finetune = given_values(args, FinetuneSettings, _FINETUNE_FLAGS)  # alpha follows the rank (the spec's validator)
    scoring = given_values(args, ScorerSpec, _SCORER_FLAGS)
    if args.json_keys:
        scoring["json_required_keys"] = [k.strip() for k in args.json_keys.split(",") if k.strip()]
    if scoring and "names" not in scoring:
        flags = ", ".join(f for field, f in _SCORER_FLAGS.items() if field in scoring) or "--json-keys"
        raise ValueError(f"--scorer: {flags} set options of a scorer: name it too (--scorer json, sql-exec, "
                         "or python:FILE.py:FUNCTION)")
    if scoring:
        fields["scoring"] = scoring
    output = args.output or load_settings().new_run_dir("compare")
    return CompareSpec(data=Path(args.data), mapping=mapping_from_args(args), model=args.model, output=Path(output),
                       generation=generation, rag=given_values(args, RagSettings, _RAG_FLAGS), finetune=finetune,
                       prompting=given_values(args, PromptingSettings, _PROMPTING_FLAGS),
                       **fields)


def _compare(args: argparse.Namespace) -> int:
    from compare.launch import launch_comparison

    run_dir = launch_comparison(spec_from_args(args))  # checks the data, columns and GPU first (exit 2)
    print(run_dir)
    if args.detach:
        return 0
    return follow(run_dir)  # prints metrics.md once the run completes
