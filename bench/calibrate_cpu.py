"""The estimator's `--device cpu` figures against real training runs of our own recipe on a CPU.

    python -m bench calibrate_cpu           # writes bench/results/calibrate_cpu.md
    python -m bench.calibrate_cpu --json    # [{"setup", "measured_gib", "estimated_gib"}, ...]

Each setup runs tuning/recipes/sft.py (trl SFTTrainer + peft, fp32 on a CPU) for two optimizer
steps on a random-initialised model with a real architecture (bench/calibrate.py builds the
models, the rows and the estimate; the GPU run there records the same table).

What is measured: the peak of live tensor memory, counted by a TorchDispatchMode (`LiveTensors`)
that sees every tensor an ATen op returns, forward and backward (the CPU autograd engine runs on
the calling thread, and dispatch modes travel with its thread-local state), keeps the size of each
storage it has not seen, and subtracts it when the storage is freed (a weakref finalizer on the
storage, whose Python object torch keeps for as long as the storage lives). Views share their
storage and count once. This is what the estimator estimates: tensors, not the process's RSS
(which adds the Python/torch runtime and malloc's own slack). Not seen: buffers a kernel
allocates inside itself without returning them (none large in these runs).
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
import weakref
from pathlib import Path

from bench.calibrate import GIB, Row, Setup, estimate_breakdown, job_spec, markdown, run_recipe

OUT = Path(__file__).parent / "results" / "calibrate_cpu.md"
TOLERANCE = 0.10

SETUPS = (
    Setup("smollm2-135m", "lora", 2, 64, False),  # the smallest: tests/bench/test_calibrate_cpu.py runs it
    Setup("smollm2-135m", "lora", 2, 256, False),
    Setup("smollm2-135m", "lora", 2, 256, True),
    Setup("smollm2-135m", "full", 2, 64, False),
    Setup("smollm2-135m", "full", 2, 128, True),
    Setup("smollm2-135m", "full", 2, 256, False),
    Setup("qwen2.5-0.5b", "lora", 2, 128, False),
    Setup("llama-3.2-1b-4l", "lora", 2, 128, True),
)


def live_tensors_mode():
    """A TorchDispatchMode that tracks live CPU tensor storage; `.peak` is the high-water mark in bytes."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves
    from torch.utils.weak import WeakIdKeyDictionary

    class LiveTensors(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.live = self.peak = 0
            self._seen = WeakIdKeyDictionary()

        def _freed(self, nbytes: int) -> None:
            self.live -= nbytes

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_leaves(out):
                if getattr(t, "device", None) is not None and t.device.type == "cpu" and hasattr(t, "untyped_storage"):
                    storage = t.untyped_storage()
                    if storage not in self._seen:
                        self._seen[storage] = nbytes = storage.nbytes()
                        self.live += nbytes
                        weakref.finalize(storage, self._freed, nbytes)
            self.peak = max(self.peak, self.live)
            return out

    return LiveTensors()


def measure(setup: Setup, root: Path) -> Row:
    """Run the setup through the recipe under the tracker; the estimate for the same job."""
    spec = job_spec(setup, root, "cpu")
    estimated = estimate_breakdown(spec, "cpu").total_bytes / GIB
    start = time.perf_counter()
    with live_tensors_mode() as tracker:
        run_recipe(spec)
    return Row(setup, tracker.peak / GIB, estimated, {"seconds": f"{time.perf_counter() - start:.0f}"})


def run(setups=SETUPS, workdir: Path | None = None) -> list[Row]:
    import torch

    # One thread: memory does not depend on it, and on a shared 2-core machine OpenMP's threads wait on
    # each other (a SmolLM2 LoRA step took 50 s with 2 threads under load, 3 s with one).
    torch.set_num_threads(1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        return [measure(s, Path(tmp)) for s in setups]


def table(rows: list[Row], seconds: float | None = None) -> str:
    import platform

    worst = max(abs(r.error) for r in rows)
    took = f", {seconds / 60:.1f} min in all" if seconds else ""
    title = (f"CPU calibration: live tensor peak of our recipe vs `--device cpu` ({len(rows)} setups, worst "
             f"{worst:.1%}, goal {TOLERANCE:.0%}; {platform.machine()}, {time.strftime('%Y-%m-%d')}{took})")
    return markdown(rows, title, ("seconds",))


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    rows = run()
    if argv and "--json" in argv:
        print(json.dumps([{k: r.as_dict()[k] for k in ("setup", "measured_gib", "estimated_gib")} for r in rows],
                         indent=2))
        return 0
    text = table(rows, time.perf_counter() - start)
    OUT.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
