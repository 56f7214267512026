"""Soak check of the run machinery: start a tiny tuning job, SIGKILL its worker at a random
moment, resume, and again, until it completes. Every round must end with exactly the
requested step count, never two workers on the folder at once, and a consistent metrics.jsonl
(every step logged once: strictly increasing, no duplicates, none missing). A few rounds do the
same to a comparison: SIGKILL of the comparison worker while its tuning child is on `train/`
(the child must die with it), resume, and the same checks on `train/`.

Where a kill lands is drawn (seeded) per attempt: a random time in the worker's start-up
(imports, model load; a fifth of the kills) or right after a random step is logged, which for a
step that is a multiple of the save interval is while that checkpoint is being written. In a quarter of the
rounds the newest checkpoint is also cut after the kill (its weights and marker removed), as a
kill during its save would leave it. Bounded in time: every wait has a limit, and so has the soak.

    python -m bench soak   # 20 tuning rounds + 3 comparison rounds; bench/results/soak.md
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

ROUNDS, COMPARE_ROUNDS, STEPS, SAVE_STEPS, MAX_KILLS, SEED = 20, 3, 24, 4, 2, 0
TIME_LIMIT_S = 60 * 60  # the whole soak (a busy 2-core machine: about 1-2 min a round)
ATTEMPT_S = 300  # the longest one attempt (start to end) may take on a busy machine
STARTUP_KILL_S = 6.0  # start-up kills land uniformly in the first seconds (imports, model load)
STARTUP_SHARE = 0.2  # of the kills
DAMAGE_SHARE = 0.25


@dataclass
class Round:
    kind: str
    kills: list[str] = field(default_factory=list)  # where each kill landed
    resumed_from: list[str] = field(default_factory=list)  # per resumed attempt, from log.txt
    incomplete_removed: int = 0
    rows_dropped: int = 0
    damaged: bool = False
    most_workers: int = 0
    child_death_s: float | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class WorkerWatch:
    """Counts, every 100 ms, the tuning worker processes working on one folder; keeps the most.
    Reads /proc/PID/cmdline itself (about 4 ms a sample; psutil's process_iter took 23 ms here);
    a zombie's cmdline is empty, so dead workers do not count."""

    def __init__(self, run_dir: Path) -> None:
        self.args, self.most = [b"-m", b"tuning.worker", str(run_dir).encode()], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def count(self) -> int:
        n = 0
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    n += fh.read().split(b"\0")[1:-1] == self.args  # python -m ...: not its sh wrapper
            except OSError:  # not a process, or it just ended
                continue
        return n

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            self.most = max(self.most, self.count())

    def __enter__(self) -> WorkerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _data(path: Path, n: int = 48) -> Path:
    rng = random.Random(0)
    rows = []
    for _ in range(n):
        a, b = rng.randint(1, 60), rng.randint(1, 60)
        rows.append({"prompt": f"What is {a} plus {b}?", "completion": f"{a} plus {b} is {a + b}."})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _logged(run_dir: Path, since: float = 0.0) -> list[int]:
    """The steps metrics.jsonl holds a loss for (logged at `since` or later)."""
    import runs

    return [m["step"] for m in runs.read_metrics(run_dir) if "loss" in m and m.get("time", 0) >= since]


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.time() + timeout_s
    while not predicate():
        if time.time() > deadline:
            raise TimeoutError(f"no {what} within {timeout_s:.0f} s")
        time.sleep(0.02)


# ---------------------------------------------------------------- tuning rounds


def _kill_at_random(run_dir: Path, rng: random.Random, steps: int) -> str | None:
    """Wait for a random moment of this attempt and SIGKILL its worker (the whole process group
    while it has no pid yet); where the kill landed, or None when the attempt ended first."""
    import runs

    target = 0 if rng.random() < STARTUP_SHARE else rng.randint(1, steps)  # 0: start-up; N: right after step N
    startup_s, t0 = rng.uniform(0.0, STARTUP_KILL_S), time.time()
    while time.time() - t0 < ATTEMPT_S:
        status = runs.refresh_status(run_dir)
        if status.done:
            return None
        last = max(_logged(run_dir, since=t0), default=0)  # by this attempt (a resumed one starts later)
        if (last >= target > 0) or (target == 0 and (last > 0 or time.time() - t0 >= startup_s)):
            if status.pid:
                os.kill(status.pid, signal.SIGKILL)  # the worker alone, as the OOM killer does
            else:
                os.killpg(status.pgid, signal.SIGKILL)
            if last == 0:
                return "start-up"
            return "after the last step" if last >= steps else f"after step {last}"
        time.sleep(0.02)
    raise TimeoutError(f"attempt on {run_dir} neither ended nor reached step {target}")


def _cut_newest_checkpoint(run_dir: Path) -> bool:
    """Leave the newest checkpoint as a kill during its save would: no weights, no marker."""
    from tuning import checkpoints

    folders = checkpoints.checkpoint_folders(run_dir)
    if not folders:
        return False
    (folders[-1] / checkpoints.MARKER).unlink(missing_ok=True)
    (folders[-1] / "adapter_model.safetensors").unlink(missing_ok=True)
    return True


def _tune_round(model_dir: Path, data: Path, out: Path, rng: random.Random, steps: int, max_kills: int) -> Round:
    import runs
    from tuning.spec import JobSpec

    r = Round("tune")
    spec = JobSpec(model=str(model_dir), data=str(data), output=str(out), max_steps=steps, batch_size=2,
                   logging_steps=1, save_steps=SAVE_STEPS, near_dup_threshold=None, device="cpu")
    kills, damage = rng.randint(1, max_kills), rng.random() < DAMAGE_SHARE
    with WorkerWatch(out) as watch:
        run_dir = runs.launch(spec)
        for _ in range(kills):
            where = _kill_at_random(run_dir, rng, steps)
            if where is None:
                break
            r.kills.append(where)
            ended = runs.wait(run_dir, timeout_s=60, poll_s=0.05)
            if ended.state == "completed":
                break  # it finished just before the kill landed
            if damage and not r.damaged:
                r.damaged = _cut_newest_checkpoint(run_dir)
            runs.resume(run_dir)
        runs.wait(run_dir, timeout_s=ATTEMPT_S, poll_s=0.1)
        _wait(lambda: watch.count() == 0, 30, "worker exit")
    r.most_workers = watch.most
    r.problems += _check(run_dir, steps, exact_rows=True)
    _read_log(run_dir, r)
    return r


def _check(run_dir: Path, steps: int, *, exact_rows: bool) -> list[str]:
    """What is wrong with a run that should have completed `steps` steps (nothing: [])."""
    import runs

    problems, status = [], runs.load_status(run_dir)
    if status.state != "completed":
        problems.append(f"ended {status.state}: {status.error}")
    if status.step != steps or status.total_steps != steps:
        problems.append(f"step {status.step} of {status.total_steps}, expected {steps} of {steps}")
    logged = _logged(run_dir)
    if any(b <= a for a, b in pairwise(logged)):
        problems.append(f"metrics.jsonl steps not strictly increasing: {logged}")
    if exact_rows and logged != list(range(1, steps + 1)):
        problems.append(f"metrics.jsonl steps {logged}, expected 1..{steps} once each")
    if logged and logged[-1] > steps:
        problems.append(f"metrics.jsonl logged step {logged[-1]} of {steps}")
    summaries = [m for m in runs.read_metrics(run_dir) if "train_runtime_s" in m]
    if len(summaries) != 1:
        problems.append(f"{len(summaries)} end-of-training rows in metrics.jsonl")
    return problems


def _read_log(run_dir: Path, r: Round) -> None:
    """What each resumed attempt said it did (tuning.checkpoints.resume_point's lines)."""
    log = (run_dir / "log.txt").read_text()
    for line in log.splitlines():
        if m := re.search(r"resuming from the newest complete checkpoint, checkpoints/(checkpoint-\d+)", line):
            r.resumed_from.append(m.group(1))
        elif "the run restarts from step 0" in line:
            r.resumed_from.append("step 0")
        else:
            continue
        if m := re.search(r"removed incomplete ([\w\-, ]+) \(", line):
            r.incomplete_removed += len(m.group(1).split(", "))
        if m := re.search(r"dropped (\d+) metrics.jsonl row", line):
            r.rows_dropped += int(m.group(1))


# ---------------------------------------------------------------- comparison rounds


def _compare_round(model_dir: Path, data: Path, out: Path, rng: random.Random, steps: int) -> Round:
    """SIGKILL the comparison worker at a random moment of its train stage, resume, check train/."""
    import runs
    from compare.spec import CompareSpec

    r = Round("compare")
    spec = CompareSpec(
        data=data,
        model=str(model_dir),
        output=out,
        arms=["finetuned"],
        eval_fraction=0.25,
        generation={"max_new_tokens": 4},
        finetune={"method": "lora", "max_steps": steps, "batch_size": 2},
    )
    train_dir = out / "train"
    with WorkerWatch(train_dir) as watch:
        run_dir = runs.launch(spec)
        _wait(lambda: watch.count() > 0, ATTEMPT_S, "tuning child on train/")
        at = _child_moment(train_dir, rng, steps)
        os.kill(runs.load_status(run_dir).pid, signal.SIGKILL)
        r.kills.append(f"comparison worker, its child {at}")
        t0 = time.time()
        _wait(lambda: watch.count() == 0, 10, "the tuning child to die with its parent")
        r.child_death_s = time.time() - t0
        runs.wait(run_dir, timeout_s=60, poll_s=0.05)
        runs.resume(run_dir)
        _wait(lambda: (run_dir / "train.json").exists() or runs.refresh_status(run_dir).done, ATTEMPT_S, "train.json")
        runs.cancel(run_dir, grace_s=60)  # the stages after train are not this check's business
    r.most_workers = watch.most
    r.problems += _check(train_dir, steps, exact_rows=False)
    train = json.loads((run_dir / "train.json").read_text()) if (run_dir / "train.json").exists() else {}
    if train.get("steps") != steps:
        r.problems.append(f"train.json steps {train.get('steps')}, expected {steps}")
    _read_log(train_dir, r)
    return r


def _child_moment(train_dir: Path, rng: random.Random, steps: int) -> str:
    """Wait for a random moment of the tuning child's life: its start-up, or once its status
    says it has done a random number of steps (written every 0.5 s, so a little later)."""
    import runs

    if rng.random() < STARTUP_SHARE:
        time.sleep(rng.uniform(0.0, STARTUP_KILL_S))
        return f"at step {runs.load_status(train_dir).step} (a start-up kill)"
    target = rng.randint(1, steps - 1)
    _wait(lambda: runs.load_status(train_dir).step >= target or runs.load_status(train_dir).done, ATTEMPT_S,
          f"step {target} of the tuning child")
    return f"at step {runs.load_status(train_dir).step}"


# ---------------------------------------------------------------- the soak


@dataclass
class Soak:
    rounds: list[Round]
    seconds: float
    steps: int
    seed: int
    max_kills: int
    stopped_early: bool = False

    @property
    def ok(self) -> bool:
        return not self.stopped_early and all(not r.problems and r.most_workers <= 1 for r in self.rounds)


def run(model_dir: Path | None = None, *, rounds: int = ROUNDS, compare_rounds: int = COMPARE_ROUNDS,
        steps: int = STEPS, max_kills: int = MAX_KILLS, seed: int = SEED, time_limit_s: float = TIME_LIMIT_S) -> Soak:
    """The soak in a temporary folder; a round that breaks a rule records why in `problems`.
    A tuning round kills 1 to `max_kills` attempts; a comparison round kills once."""
    from lm.tiny import build_tiny_model

    rng, t0, done = random.Random(seed), time.time(), []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = model_dir or build_tiny_model(tmp / "model")
        data = _data(tmp / "data.jsonl")
        plan = ["tune"] * rounds + ["compare"] * compare_rounds
        for i, kind in enumerate(plan):
            if time.time() - t0 > time_limit_s:
                return Soak(done, time.time() - t0, steps, seed, max_kills, stopped_early=True)
            start = time.time()
            out = tmp / f"{kind}-{i}"
            try:
                if kind == "tune":
                    r = _tune_round(model_dir, data, out, rng, steps, max_kills)
                else:
                    r = _compare_round(model_dir, data, out, rng, steps)
            except (TimeoutError, OSError, ValueError) as exc:
                r = Round(kind, problems=[f"{type(exc).__name__}: {exc}"])
            r.seconds = time.time() - start
            done.append(r)
            print(f"round {i + 1}/{len(plan)} {kind}: kills {r.kills or 'none'}, resumed from {r.resumed_from}, "
                  f"{r.seconds:.0f} s, {'OK' if not r.problems else r.problems}", flush=True)
    return Soak(done, time.time() - t0, steps, seed, max_kills)


def markdown(soak: Soak) -> str:
    tune = [r for r in soak.rounds if r.kind == "tune"]
    comp = [r for r in soak.rounds if r.kind == "compare"]
    kills = [k for r in soak.rounds for k in r.kills]
    landed = {
        "start-up": sum(k == "start-up" for k in kills),
        "at a checkpoint step (during its save)": sum(_at_save(k) for k in kills),
        "after another step": sum(k.startswith("after step") and not _at_save(k) for k in kills),
        "after the last step (final save, adapter, memory)": sum(k == "after the last step" for k in kills),
    }
    resumed = [x for r in soak.rounds for x in r.resumed_from]
    seconds = [r.seconds for r in soak.rounds]
    ok_rounds = sum(not r.problems and r.most_workers <= 1 for r in soak.rounds)
    lines = [
        "## Soak: SIGKILL at random moments, resume, repeat",
        "",
        f"Tiny Llama, LoRA, {soak.steps} steps (batch 2, a checkpoint every {SAVE_STEPS} steps, every step logged), "
        f"seed {soak.seed}: {len(tune)} tuning rounds (1-{soak.max_kills} SIGKILLs of the worker each, "
        "then resume to the end) and "
        f"{len(comp)} comparison rounds (SIGKILL of the comparison worker while its tuning child is on train/). "
        f"Rules checked every round: exactly {soak.steps} steps, never two workers on the folder (sampled every "
        "100 ms), every step in metrics.jsonl once, one end-of-training row.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| rounds that kept every rule | {ok_rounds} / {len(soak.rounds)}"
        f"{' (stopped early: time limit)' if soak.stopped_early else ''} |",
        f"| SIGKILLs | {len(kills)} |",
        *[f"| kills landing {where} | {n} |" for where, n in landed.items()],
        "| rounds whose newest checkpoint was also cut (as a kill mid-save leaves it) | "
        f"{sum(r.damaged for r in tune)} |",
        f"| resumes from a complete checkpoint / from step 0 | {sum(x != 'step 0' for x in resumed)} / "
        f"{sum(x == 'step 0' for x in resumed)} |",
        f"| incomplete checkpoints found and removed at resume | {sum(r.incomplete_removed for r in soak.rounds)} |",
        f"| metrics rows of killed attempts dropped at resume | {sum(r.rows_dropped for r in soak.rounds)} |",
        f"| most workers seen on one folder at once | {max((r.most_workers for r in soak.rounds), default=0)} |",
    ]
    if comp:
        deaths = [r.child_death_s for r in comp if r.child_death_s is not None]
        lines.append(f"| tuning child gone after its comparison worker's SIGKILL (max) | "
                     f"{max(deaths):.2f} s |" if deaths else "| tuning child gone after the SIGKILL | - |")
    lines += [
        f"| round wall time, median / max | {statistics.median(seconds):.0f} s / {max(seconds):.0f} s |"
        if seconds else "| round wall time | - |",
        f"| soak wall time | {soak.seconds:.0f} s |",
        "",
        "| round | kind | kills landed | newest checkpoint also cut | resumed from | problems |",
        "|---:|---|---|---|---|---|",
        *[f"| {i} | {r.kind} | {'; '.join(r.kills) or 'none'} | {'yes' if r.damaged else 'no'} | "
          f"{', '.join(r.resumed_from) or '-'} | {'; '.join(r.problems) or 'none'} |"
          for i, r in enumerate(soak.rounds, start=1)],
        "",
    ]
    return "\n".join(lines)


def _at_save(kill: str) -> bool:
    m = re.fullmatch(r"after step (\d+)", kill)
    return bool(m) and int(m.group(1)) % SAVE_STEPS == 0


def main() -> str:
    return markdown(run())


if __name__ == "__main__":
    print(main())
