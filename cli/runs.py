"""`ftadvisor runs list|show|cancel|resume|merge`: tuning and comparison runs alike (the spec's
`kind` picks the worker). RUN is a folder, or a run's name in the runs root."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common.text import one_line


def _lines(value: str) -> int:
    """`--log-lines`: a count of lines, 0 for none."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of lines, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (0 shows no log), got {n}")
    return n


def register(subparsers) -> None:
    runs_parser = subparsers.add_parser("runs", help="list, inspect, cancel, resume or merge runs",
                                        description=__doc__.split("\n\n")[0])
    sub = runs_parser.add_subparsers(dest="runs_command", required=True, metavar="ACTION")

    ls = sub.add_parser("list", help="runs in the runs root (or --root), newest first")
    ls.add_argument("--root", metavar="DIR", help="folder holding run folders (default: the runs root)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)

    show = sub.add_parser("show", help="a run's status, spec, last metrics, memory and log tail")
    show.add_argument("run", metavar="RUN")
    show.add_argument("--json", action="store_true")
    show.add_argument("--log-lines", type=_lines, default=15, metavar="N", help="log lines to show (0: none)")
    show.set_defaults(func=_show)

    cancel = sub.add_parser("cancel", help="stop after the current step (checkpoint saved), then end the processes")
    cancel.add_argument("run", metavar="RUN")
    cancel.add_argument("--grace", type=float, default=30.0, metavar="S",
                        help="seconds to wait for a clean stop before killing the process group (default: 30)")
    cancel.set_defaults(func=_cancel)

    resume = sub.add_parser("resume", help="continue a cancelled or failed run from its last checkpoint")
    resume.add_argument("run", metavar="RUN")
    resume.add_argument("--detach", action="store_true", help="return at once")
    resume.set_defaults(func=_resume)

    merge = sub.add_parser("merge", help="merge a finished run's LoRA adapter into its base (RUN/merged)")
    merge.add_argument("run", metavar="RUN")
    merge.add_argument("--output", metavar="DIR", help="where to save (default: RUN/merged)")
    merge.set_defaults(func=_merge)


def resolve_run(run: str) -> Path:
    """A run folder from a path, or from a name in the runs root."""
    from common.settings import load_settings

    for candidate in (Path(run), load_settings().runs_dir / run):
        if (candidate / "status.json").exists():
            return candidate.resolve()
    raise FileNotFoundError(f"no run {run!r}: give a run folder, or a name listed by `ftadvisor runs list`")


def _fmt(value, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


def _list(args: argparse.Namespace) -> int:
    from common.settings import load_settings
    from runs import list_runs

    found = list_runs(args.root or load_settings().runs_dir)
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in found], indent=2))
        return 0
    if not found:
        print(f"no runs in {args.root or load_settings().runs_dir}")
        return 0
    rows = [("RUN", "KIND", "STATE", "STEP", "LOSS", "EVAL", "METHOD", "MODEL")]
    for r in found:
        steps = f"{r.status.step}/{r.status.total_steps or '?'}"
        rows.append((one_line(Path(r.run_dir).name), one_line(r.kind), r.state, steps,  # a name is one line
                     _fmt(r.final_loss), _fmt(r.eval_loss), one_line(r.method or "-"), one_line(r.model or "-")))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    for r in found:
        if r.damaged:
            print(f"damaged: {one_line(r.damaged)}")
    return 0


def _show(args: argparse.Namespace) -> int:
    import runs

    run_dir = resolve_run(args.run)
    status = runs.refresh_status(run_dir)
    metrics = runs.read_metrics(run_dir)
    memory_path = run_dir / "memory.json"
    memory = json.loads(memory_path.read_text()) if memory_path.exists() else None
    if args.json:
        print(json.dumps({"run_dir": str(run_dir), "status": status.model_dump(mode="json"),
                          "spec": runs.read_spec(run_dir), "metrics": metrics[-5:], "memory": memory}, indent=2))
        return 0
    spec = runs.read_spec(run_dir)
    print(f"run      {one_line(run_dir)}")
    print(f"kind     {status.kind}   state {status.state}   step {status.step}/{status.total_steps or '?'}"
          + (f"   stage {status.stage}" if status.stage else ""))
    print(f"model    {one_line(spec.get('model'))}   method {one_line(runs.spec_method(spec) or '-')}   "
          f"data {one_line(spec.get('data'))}")
    if status.started_at:
        end = status.finished_at or time.time()
        print(f"time     {end - status.started_at:.0f} s" + (f"   eta {status.eta_s:.0f} s" if status.eta_s else ""))
    losses = [m for m in metrics if "loss" in m]
    if losses:
        print(f"loss     first {losses[0]['loss']:.4f}   last {losses[-1]['loss']:.4f}")
    evals = [m for m in metrics if "eval_loss" in m]
    if evals:
        print(f"eval     {evals[-1]['eval_loss']:.4f}")
    if memory:
        print(f"memory   measured {memory['measured_peak_gib']:.2f} GiB ({memory['measured']}), "
              f"estimated {_fmt(memory.get('estimated_total_gib'), '.2f')} GiB")
    if "resumed_step" in status.detail:
        where = status.detail.get("resumed_from") or "step 0 (no complete checkpoint was left)"
        print(f"resumed  from {where}")
    if status.error:
        print(f"error    {one_line(status.error)}")
    tail = runs.tail_log(run_dir, args.log_lines)
    if tail:
        print("log (last lines):\n" + tail)
    return 0


def _cancel(args: argparse.Namespace) -> int:
    import runs

    status = runs.cancel(resolve_run(args.run), grace_s=args.grace)
    print(
        f"{status.state} at step {status.step}/{status.total_steps or '?'}"
        + (f": {status.error}" if status.error else "")
    )
    return 0


def _resume(args: argparse.Namespace) -> int:
    import runs
    from cli.follow import follow

    run_dir = resolve_run(args.run)
    runs.resume(run_dir)
    print(run_dir)
    return 0 if args.detach else follow(run_dir, command="runs")


def _merge(args: argparse.Namespace) -> int:
    from tuning.merge import merge_run

    print(merge_run(resolve_run(args.run), args.output))
    return 0
