"""`ftadvisor tune`: validate a dataset, then train in a detached worker and show its progress;
`ftadvisor tiny-model`: build the small offline Llama model used by demos and tests."""
from __future__ import annotations

import argparse
import sys

from cli.data import add_mapping_arguments, mapping_from_args
from cli.fields import add_field_flags, given_values
from cli.follow import follow
from common import flags
from common.vocabulary import LORA_TARGETS


def register(subparsers) -> None:
    from tuning.spec import JobSpec

    tune = subparsers.add_parser(
        "tune", help="fine-tune a model on a dataset (LoRA, QLoRA, full or DPO)",
        description="Validate the dataset (exit 2 on a problem, before any model is loaded), then train in a "
        "background worker. Blocks and shows progress unless --detach; Ctrl-C leaves the run going.",
    )
    add_field_flags(tune, JobSpec, flags.TUNE, required=("model", "data"))
    add_mapping_arguments(tune)
    tune.add_argument("--no-near-dup", action="store_true", help="skip the near-duplicate check (~10 s faster)")
    tune.add_argument(flags.TUNE_BY_HAND["output"], metavar="RUN_DIR",
                      help="run folder (default: a new folder in the runs root)")
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

    fields = given_values(args, JobSpec, flags.TUNE)
    targets = fields.get("lora_targets")
    if targets is not None and targets not in LORA_TARGETS:
        fields["lora_targets"] = targets.split(",")  # module names, comma-separated
    if args.no_near_dup:
        fields["near_dup_threshold"] = None
    method = fields.get("method", JobSpec.model_fields["method"].default)
    return JobSpec(mapping=mapping_from_args(args), output=args.output or _default_output(method),
                   **fields)  # the spec resolves paths


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
    from lm.offline import TINY, pull

    print(pull(TINY, args.output).path)
    return 0
