"""Measure real peak memory of our own recipe on a CUDA GPU and set it against the estimator.

    python -m bench.calibrate [--setups NAME,...] [--out FILE]

Each setup is a real training run through tuning/recipes/sft.py (trl SFTTrainer + peft, the code
`ftadvisor tune` runs) on a random-initialised model with a real architecture (no download:
shapes from the catalog), on rows whose tokenized length is the setup's sequence length, for two
optimizer steps (the second step runs with the optimizer states already created). It records
torch.cuda.max_memory_allocated (set against the estimate without allocator slack and CUDA context)
and max_memory_reserved (against the estimate with the slack) and writes the measured-vs-estimated
table (default bench/results/calibration.md). `bench/calibrate_cpu.py` runs the same setups on a
CPU, measuring live tensor memory instead. Nothing here runs without a GPU; the setups, the model
folders, the data and the table are plain Python and are tested on CPU.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).parent / "results" / "calibration.md"
GIB = 1024**3
STEPS = 2

# Real architectures, random weights: SmolLM2-135M (HuggingFaceTB/SmolLM2-135M config.json), the
# catalog's Qwen2.5-0.5B, and Llama 3.2 1B cut to 4 layers (its 128k vocabulary is the point).
SMOLLM2_135M = {"model_type": "llama", "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
                "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64,
                "max_position_embeddings": 8192, "tie_word_embeddings": True, "rope_theta": 100000.0}
SHAPES = {"smollm2-135m": SMOLLM2_135M, "qwen2.5-0.5b": "Qwen/Qwen2.5-0.5B",
          "llama-3.2-1b-4l": ("meta-llama/Llama-3.2-1B", 4), "llama-3.2-1b": "meta-llama/Llama-3.2-1B",
          "llama-3.2-3b": "meta-llama/Llama-3.2-3B"}


@dataclass(frozen=True)
class Setup:
    shape: str
    method: str  # lora | full
    batch_size: int
    seq_len: int  # tokens per row, prompt and completion together
    checkpointing: bool

    @property
    def name(self) -> str:
        ckpt = ", checkpointing" if self.checkpointing else ""
        return f"{self.shape} {self.method}, {self.batch_size} x {self.seq_len}{ckpt}"


@dataclass
class Row:
    setup: Setup
    measured_gib: float | None
    estimated_gib: float
    extra: dict = field(default_factory=dict)  # e.g. reserved vs its estimate, seconds

    @property
    def error(self) -> float | None:
        return None if not self.measured_gib else self.estimated_gib / self.measured_gib - 1

    def as_dict(self) -> dict:
        return {"setup": self.setup.name, "measured_gib": self.measured_gib, "estimated_gib": self.estimated_gib,
                **self.extra}


def shape_config(shape: str) -> dict:
    """The config.json of a setup's shape (a catalog config, cut to fewer layers where named)."""
    from estimator import load_model_spec

    source = SHAPES[shape]
    if isinstance(source, dict):
        return dict(source)
    name, layers = source if isinstance(source, tuple) else (source, None)
    config = load_model_spec(name).to_hf_config()
    return config | ({"num_hidden_layers": layers} if layers else {})


def model_folder(shape: str, root: Path) -> Path:
    """A random-initialised bf16 checkpoint of the shape, with the tiny model's tokenizer (its 512
    ids fit every vocabulary; the chat template is the one the recipe uses)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from lm.tiny import build_tiny_model

    folder = root / shape
    if (folder / "config.json").exists():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(build_tiny_model(root / "tiny"))
    config = shape_config(shape)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(**config), dtype=torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _chat_row(words: int) -> dict:
    half = words // 2
    return {"prompt": " ".join(["a"] * half), "completion": " ".join(["b"] * (words - half))}


def data_file(setup: Setup, folder: Path, root: Path) -> Path:
    """batch x steps prompt/completion rows whose chat-templated length is exactly `seq_len` tokens
    (" a" and " b" are one token each of the tiny tokenizer): no padding, half of each row the
    completion trl trains on."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)

    def length(words: int) -> int:
        row = _chat_row(words)
        messages = [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": row["completion"]}]
        return len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])

    words = next(n for n in range(1, setup.seq_len) if length(n) >= setup.seq_len)
    path = root / f"rows-{setup.seq_len}.jsonl"
    rows = [_chat_row(words)] * (setup.batch_size * STEPS)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def job_spec(setup: Setup, root: Path, device: str):
    from tuning.spec import JobSpec

    run = root / "runs" / setup.name.replace(" ", "_").replace(",", "")
    folder = model_folder(setup.shape, root)
    return JobSpec(model=str(folder), data=str(data_file(setup, folder, root)), output=str(run),
                   method=setup.method, batch_size=setup.batch_size, max_seq_len=max(setup.seq_len, 8),
                   gradient_checkpointing=setup.checkpointing, max_steps=STEPS, eval_fraction=0.0,
                   near_dup_threshold=None, save_steps=10_000, logging_steps=1, device=device)


def run_recipe(spec) -> None:
    """The real recipe, as the worker runs it (tuning/recipes/sft.py), in this process."""
    import runs
    from tuning.recipes import sft

    run_dir = runs.create_run(spec)
    assert sft.run(spec, run_dir) == "completed"


def estimate_breakdown(spec, device: str):
    """The estimator's breakdown for the job, at the batch length its tokenized rows reach."""
    from estimator import load_model_spec
    from estimator.peak_memory import memory_breakdown
    from lm.loading import load_tokenizer
    from tuning.memory import estimate_request, padded_batch_length
    from tuning.recipes.common import trl_rows

    tokenizer = load_tokenizer(spec.model)
    rows = trl_rows(spec, tokenizer, Path(spec.output))[0]
    req = estimate_request(spec, device=device, seq_len=padded_batch_length(spec, tokenizer, rows))
    return memory_breakdown(req, load_model_spec(req.model))


def markdown(rows: list[Row], title: str, extra_columns: tuple[str, ...] = ()) -> str:
    head = "| setup | measured GiB | estimated GiB | error |" + "".join(f" {c} |" for c in extra_columns)
    lines = [f"## {title}", "", head, "|---|---:|---:|---:|" + "---:|" * len(extra_columns)]
    for r in rows:
        measured = f"{r.measured_gib:.3f}" if r.measured_gib else r.extra.get("error", "-")
        error = f"{r.error:+.1%}" if r.error is not None else ""
        cells = "".join(f" {_cell(r.extra.get(c))} |" for c in extra_columns)
        lines.append(f"| {r.setup.name} | {measured} | {r.estimated_gib:.3f} | {error} |{cells}")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:+.1%}" if abs(value) < 1 and value != 0 else f"{value:.3f}"
    return "" if value is None else str(value)


GPU_SETUPS = (
    Setup("smollm2-135m", "lora", 4, 512, False), Setup("smollm2-135m", "full", 4, 512, False),
    Setup("qwen2.5-0.5b", "lora", 4, 1024, False), Setup("qwen2.5-0.5b", "full", 4, 1024, True),
    Setup("llama-3.2-1b", "lora", 4, 2048, False), Setup("llama-3.2-1b", "lora", 4, 2048, True),
    Setup("llama-3.2-1b", "full", 2, 1024, True), Setup("llama-3.2-3b", "lora", 2, 2048, True),
)


def measure_gpu(setup: Setup, root: Path) -> Row:
    import torch

    spec = job_spec(setup, root, "cuda")
    b = estimate_breakdown(spec, "cuda")
    est_reserved = (b.allocated_bytes + b.components["allocator_overhead"].bytes) / GIB
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    try:
        run_recipe(spec)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return Row(setup, None, b.allocated_bytes / GIB, {"error": "OOM", "estimated reserved GiB": est_reserved})
    reserved = torch.cuda.max_memory_reserved() / GIB
    return Row(setup, torch.cuda.max_memory_allocated() / GIB, b.allocated_bytes / GIB,
               {"measured reserved GiB": reserved, "estimated reserved GiB": est_reserved,
                "reserved error": est_reserved / reserved - 1})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--setups", help="comma-separated setup names to run (default: all)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--workdir", type=Path, default=None, help="where random checkpoints are saved")
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("calibrate needs a CUDA GPU (bench/calibrate_cpu.py runs on a CPU)", file=sys.stderr)
        return 2
    wanted = set(args.setups.split(",")) if args.setups else None
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for setup in GPU_SETUPS:
            if wanted is None or setup.name in wanted:
                rows.append(measure_gpu(setup, Path(tmp)))
                print(json.dumps(rows[-1].as_dict()), flush=True)
    title = f"Calibration on {torch.cuda.get_device_name(0)} (max_memory_allocated; reserved beside)"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(rows, title, ("measured reserved GiB", "estimated reserved GiB", "reserved error")))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
