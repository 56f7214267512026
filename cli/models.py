"""`ftadvisor models [NAME] [--json]`: list the model catalog, or show how one name resolves."""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list the model catalog, or show one model's shape and exact counts",
        description="Without NAME: every catalog model (id, aliases, parameters, architecture). "
        "With NAME (a catalog name, a config.json path, a hub id or a size such as 7b): its shape, "
        "exact parameter counts and the linear modules LoRA can target.",
    )
    parser.add_argument("name", nargs="?", help="a model to show instead of the list")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank for the shown count (default 16)")
    parser.add_argument("--targets", default="all-linear",
                        help="LoRA targets for the shown count: all-linear, attention or q_proj,v_proj,...")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.name:
        return _show(args)
    from estimator import list_models

    entries = list_models()
    if args.json:
        print(json.dumps([e.model_dump() for e in entries], indent=2))
        return 0
    # Short aliases only in the table (the JSON has the repo-id aliases too).
    rows = [(e.id, f"{e.params_total / 1e9:.2f}", e.architecture, ", ".join(a for a in e.aliases if "/" not in a))
            for e in entries]
    _print_table(("model", "params (B)", "architecture", "aliases"), rows)
    return 0


def _show(args: argparse.Namespace) -> int:
    from estimator import load_model_spec

    spec = load_model_spec(args.name)
    lora = spec.lora_params(args.rank, args.targets)
    counts = {
        "params_total": spec.param_count(),
        "params_active": spec.active_params(),
        "embedding_params": spec.embedding_params(),
        "lm_head_params": spec.lm_head_params(),
        "layer_params": spec.layer_params(),
        "norm_params": spec.norm_params(),
        "lora_params": lora,
        "lora_rank": args.rank,
        "lora_targets": spec.resolve_targets(args.targets),
    }
    if args.json:
        out = spec.model_dump() | counts | {"linear_modules": [m.model_dump() for m in spec.linear_modules()]}
        print(json.dumps(out, indent=2))
        return 0
    what = spec.catalog_id or spec.name
    print(f"{what}  ({spec.model_type}, from {spec.source}{', approximate' if spec.approximate else ''})")
    if spec.note:
        print(f"note: {spec.note}")
    print(f"parameters: {counts['params_total']:,} total, {counts['params_active']:,} active per token")
    print(f"  embedding {counts['embedding_params']:,}, lm_head {counts['lm_head_params']:,}"
          f"{' (tied)' if spec.tie_word_embeddings else ''}, {spec.num_hidden_layers} layers x "
          f"{counts['layer_params']:,}, norms {counts['norm_params']:,}")
    print(f"LoRA r={args.rank} on {', '.join(counts['lora_targets'])}: {lora:,} trainable")
    rows = [(m.path or m.name, str(m.in_features), str(m.out_features), "yes" if m.bias else "",
             f"{m.active_instances}/{m.instances}" if m.instances > 1 else "", "yes" if m.attention else "")
            for m in spec.linear_modules()]
    _print_table(("module", "in", "out", "bias", "experts", "attention"), rows)
    return 0


def _print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
