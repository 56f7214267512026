"""Measure real peak memory on a CUDA GPU and compare it with the estimator.

    python -m bench.calibrate [--models llama-3.2-1b,...] [--steps 3] [--quick] [--out FILE]

Builds random-initialised models from the catalog configs (no download: Llama 3.2 1B and 3B,
Llama 3.1 8B), runs real training steps with plain transformers + peft (+ bitsandbytes for
QLoRA) on random tokens: LoRA, QLoRA (NF4, double quant) and full fine-tuning (pure bf16), a few
batch and sequence sizes, gradient checkpointing on and off. For each case it records
torch.cuda.max_memory_allocated and max_memory_reserved and writes a measured-vs-estimated
Markdown table (default bench/results/calibration.md). Nothing here runs without a GPU; the
table writer and the case list are plain Python and are tested on CPU.

Conditions, matching the estimator's defaults: LoRA adapters in fp32 (peft default) under
torch.autocast(bfloat16), base weights bf16; full fine-tuning in pure bf16; fused torch AdamW;
SDPA attention; transformers' standard loss (labels = input_ids); no gradient accumulation.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODELS = ("meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.1-8B")
OUT = Path(__file__).parent / "results" / "calibration.md"
GIB = 1024**3


@dataclass(frozen=True)
class Case:
    model: str
    method: str  # lora | qlora | full
    batch_size: int
    seq_len: int
    checkpointing: bool

    def request(self):
        from estimator import EstimateRequest

        extra = {"quant": "nf4"} if self.method == "qlora" else {}
        if self.method == "full":
            extra["pure_bf16"] = True
        return EstimateRequest(model=self.model, method=self.method, batch_size=self.batch_size,
                               seq_len=self.seq_len, gradient_checkpointing=self.checkpointing, **extra)


@dataclass
class Row:
    case: Case
    allocated_gib: float | None
    reserved_gib: float | None
    est_allocated_gib: float
    est_reserved_gib: float
    seconds_per_step: float | None = None
    error: str = ""


def cases(models: tuple[str, ...], quick: bool = False) -> list[Case]:
    shapes = [(1, 512, False), (4, 1024, False), (4, 1024, True), (2, 4096, True)]
    if quick:
        shapes = shapes[:2]
    out = []
    for model in models:
        for method in ("lora", "qlora", "full"):
            if method == "full" and "8B" in model and not quick:
                shapes_here = [s for s in shapes if s[2]]  # 8B full without checkpointing: too large
            else:
                shapes_here = shapes
            out += [Case(model, method, b, s, ck) for b, s, ck in shapes_here]
    return out


def estimate_row(case: Case) -> tuple[float, float]:
    from estimator import load_model_spec
    from estimator.peak_memory import memory_breakdown

    b = memory_breakdown(case.request(), load_model_spec(case.model))
    reserved = b.allocated_bytes + b.components["allocator_overhead"].bytes
    return b.allocated_bytes / GIB, reserved / GIB


def markdown(rows: list[Row], device: str) -> str:
    lines = [f"## Calibration on {device}", "",
             "| model | method | batch x seq | ckpt | measured alloc GiB | est. alloc GiB | error | "
             "measured reserved GiB | est. reserved GiB | error | s/step |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        c = r.case
        if r.error:
            lines.append(f"| {c.model} | {c.method} | {c.batch_size} x {c.seq_len} | {c.checkpointing} | "
                         f"{r.error} | {r.est_allocated_gib:.2f} | | | {r.est_reserved_gib:.2f} | | |")
            continue
        ea = r.est_allocated_gib / r.allocated_gib - 1
        er = r.est_reserved_gib / r.reserved_gib - 1
        lines.append(f"| {c.model} | {c.method} | {c.batch_size} x {c.seq_len} | {c.checkpointing} | "
                     f"{r.allocated_gib:.2f} | {r.est_allocated_gib:.2f} | {ea:+.1%} | {r.reserved_gib:.2f} | "
                     f"{r.est_reserved_gib:.2f} | {er:+.1%} | {r.seconds_per_step or 0:.2f} |")
    return "\n".join(lines) + "\n"


def _saved_random_model(model: str, root: Path) -> Path:
    """A random-initialised bf16 checkpoint of the catalog config (QLoRA quantizes on load)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from estimator import load_model_spec

    folder = root / model.replace("/", "--")
    if not folder.exists():
        config = AutoConfig.for_model(**load_model_spec(model).to_hf_config())
        AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).save_pretrained(folder)
    return folder


def _build(case: Case, root: Path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    folder = _saved_random_model(case.model, root)
    kwargs = {"dtype": torch.bfloat16, "attn_implementation": "sdpa", "device_map": {"": 0}}
    if case.method == "qlora":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    model.config.use_cache = False
    if case.checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if case.method in ("lora", "qlora"):
        model.enable_input_require_grads()
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", lora_dropout=0.0))
    return model


def measure(case: Case, root: Path, steps: int) -> tuple[float, float, float]:
    """(max allocated GiB, max reserved GiB, seconds per step) over `steps` training steps."""
    import torch

    torch.cuda.empty_cache()
    model = _build(case, root)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5, fused=True)
    vocab = model.config.vocab_size
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        ids = torch.randint(0, vocab, (case.batch_size, case.seq_len), device="cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=case.method != "full"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    allocated, reserved = torch.cuda.max_memory_allocated() / GIB, torch.cuda.max_memory_reserved() / GIB
    del model, optimizer, params
    torch.cuda.empty_cache()
    return allocated, reserved, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="two shapes per model and method")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--workdir", type=Path, default=None, help="where random checkpoints are saved")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("calibrate needs a CUDA GPU", file=sys.stderr)
        return 2
    device = torch.cuda.get_device_name(0)
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for case in cases(tuple(args.models.split(",")), args.quick):
            est_alloc, est_reserved = estimate_row(case)
            try:
                alloc, reserved, sec = measure(case, Path(tmp), args.steps)
                rows.append(Row(case, alloc, reserved, est_alloc, est_reserved, sec))
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                rows.append(Row(case, None, None, est_alloc, est_reserved, error="OOM"))
            print(markdown(rows[-1:], device).splitlines()[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, device))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
