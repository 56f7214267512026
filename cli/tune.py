"""`ftadvisor tune`: validate a dataset, then train in a detached worker and show its progress;
`ftadvisor tiny-model`: build the small offline Llama model used by demos and tests."""
from __future__ import annotations

import argparse
import sys

from cli.data import add_mapping_arguments, mapping_from_args
from cli.follow import follow
from common.vocabulary import DEVICES, JOB_METHODS, QUANTS, SHARDINGS

# flag -> JobSpec field, for the flags whose names differ from the field.
_FLAG_FIELDS = {
    "rank": "lora_rank", "alpha": "lora_alpha", "dropout": "lora_dropout", "lr": "learning_rate",
    "seq_len": "max_seq_len",
}


def register(subparsers) -> None:
    tune = subparsers.add_parser(
        "tune", help="fine-tune a model on a dataset (LoRA, QLoRA, full or DPO)",
        description="Validate the dataset (exit 2 on a problem, before any model is loaded), then train in a "
        "background worker. Blocks and shows progress unless --detach; Ctrl-C leaves the run going.",
    )
    tune.add_argument("--model", required=True, metavar="M", help="hub id or local model folder")
    tune.add_argument("--data", required=True, metavar="FILE", help="dataset (.jsonl, .json, .csv, .parquet)")
    add_mapping_arguments(tune)
    tune.add_argument("--method", choices=JOB_METHODS, default="lora", help="default: lora")
    tune.add_argument("--dpo-base", choices=("lora", "qlora"), help="what DPO trains (default: lora)")
    tune.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimizer steps")
    tune.add_argument("--epochs", type=float, metavar="E", help="passes over the data (default: 2)")
    tune.add_argument("--rank", type=int, metavar="R", help="LoRA rank (default: 16)")
    tune.add_argument("--alpha", type=float, metavar="A", help="LoRA alpha (default: 32)")
    tune.add_argument("--dropout", type=float, metavar="P", help="LoRA dropout (default: 0.05)")
    tune.add_argument("--targets", metavar="T", help="all-linear, attention, or comma-separated module names")
    tune.add_argument("--quant", choices=QUANTS, help="base quantization (qlora: nf4)")
    tune.add_argument("--lr", type=float, metavar="X", help="learning rate (default: 2e-4 LoRA, 1e-5 full)")
    tune.add_argument("--batch-size", type=int, metavar="B", help="examples per device per step (default: 4)")
    tune.add_argument("--grad-accum", type=int, metavar="N", help="gradient accumulation steps (default: 1)")
    tune.add_argument("--seq-len", type=int, metavar="S", help="max sequence length in tokens (default: 512)")
    tune.add_argument("--packing", action="store_true", default=None, help="pack examples into full sequences")
    tune.add_argument("--gradient-checkpointing", action="store_true", default=None, help="trade compute for memory")
    tune.add_argument("--seed", type=int, help="seed for split, init and order (default: 42)")
    tune.add_argument("--eval-fraction", type=float, metavar="F", help="held-out share (default: 0.1)")
    tune.add_argument("--near-dup-threshold", type=float, metavar="C", help="near-duplicate cosine (default: 0.9)")
    tune.add_argument("--no-near-dup", action="store_true", help="skip the near-duplicate check (~10 s faster)")
    tune.add_argument("--save-steps", type=int, metavar="N", help="checkpoint every N steps (default: 100)")
    tune.add_argument("--logging-steps", type=int, metavar="N", help="log metrics every N steps (default: 5)")
    tune.add_argument("--eval-steps", type=int, metavar="N", help="evaluate every N steps (default: at the end)")
    tune.add_argument("--merge", action="store_true", default=None, help="merge the adapter into the base after")
    tune.add_argument("--gpus", type=int, metavar="N", help="GPUs; >1 launches through accelerate (default: 1)")
    tune.add_argument("--sharding", choices=SHARDINGS, help="multi-GPU sharding")
    tune.add_argument("--device", choices=DEVICES, help="default: auto")
    tune.add_argument("--output", metavar="RUN_DIR", help="run folder (default: a new folder in the runs root)")
    tune.add_argument("--detach", action="store_true", help="start the run and return at once")
    tune.set_defaults(func=_tune)

    tiny = subparsers.add_parser("tiny-model", help="build a tiny offline Llama model (for demos and tests)",
                                 description="Train a small BPE tokenizer on local text and save a randomly "
                                 "initialised ~140k-parameter Llama model in the standard format "
                                 "(the same as `ftadvisor pull tiny --output DIR`).")
    tiny.add_argument("--output", required=True, metavar="DIR", help="folder to write")
    tiny.set_defaults(func=_tiny_model)


def _default_output(method: str) -> str:
    from common.settings import load_settings

    return str(load_settings().new_run_dir(method))


def spec_from_args(args: argparse.Namespace):
    """A JobSpec from the flags; unset flags keep the spec's defaults."""
    from tuning.spec import JobSpec

    names = ("method", "dpo_base", "max_steps", "epochs", "rank", "alpha", "dropout", "quant", "lr",
             "batch_size", "grad_accum", "seq_len", "packing", "gradient_checkpointing", "seed", "eval_fraction",
             "near_dup_threshold", "save_steps", "logging_steps", "eval_steps", "merge", "gpus", "sharding", "device")
    fields = {_FLAG_FIELDS.get(n, n): getattr(args, n) for n in names if getattr(args, n) is not None}
    if args.targets:
        fields["lora_targets"] = args.targets if args.targets in ("all-linear", "attention") else args.targets.split(",")
    if args.no_near_dup:
        fields["near_dup_threshold"] = None
    return JobSpec(model=args.model, data=args.data, mapping=mapping_from_args(args),
                   output=args.output or _default_output(args.method), **fields)  # the spec resolves paths


def _tune(args: argparse.Namespace) -> int:
    from tuning.errors import DatasetRefused
    from tuning.jobs import launch_job

    try:
        run_dir = launch_job(spec_from_args(args)).run_dir  # no model is loaded before the data passes
    except DatasetRefused as exc:
        for line in exc.report.error_lines():
            print(f"ftadvisor tune: error: {line}", file=sys.stderr)
        return 2
    print(run_dir)
    if args.detach:
        return 0
    return follow(run_dir)


def _tiny_model(args: argparse.Namespace) -> int:
    from tuning.offline_models import TINY, pull

    print(pull(TINY, args.output).path)
    return 0
