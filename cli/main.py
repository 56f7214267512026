"""Entry point of `ftadvisor`. Subcommand modules register themselves; heavy imports stay in handlers."""
from __future__ import annotations

import argparse
import os
import sys

from pydantic import ValidationError

from cli import advise, compare, data, estimate, models, pull, rag, runs, tune
from common.errors import describe_error

# Each module exposes `register(subparsers)`; handlers are set with `set_defaults(func=...)`.
_SUBCOMMAND_MODULES = (estimate, models, advise, tune, data, runs, rag, compare, pull)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftadvisor",
        description="Prompt, RAG or fine-tune? Advice, GPU memory/cost estimates and real tuning runs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _SUBCOMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            code = _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe (`ftadvisor ... | head`) fails here, inside the try
        return code
    except BrokenPipeError:
        # Python's docs (signal module, "Note on SIGPIPE"): send what is left to devnull so the
        # flush at exit fails no more, and exit 1 without a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # --help prints and raises SystemExit: main() still flushes
    try:
        return int(args.func(args) or 0)
    except (ValidationError, ValueError, FileNotFoundError) as exc:
        # User errors: one line per problem, exit 2 like argparse does.
        for line in describe_error(exc):
            print(f"ftadvisor {args.command}: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
