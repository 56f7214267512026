"""Merge a trained LoRA adapter into its base model and save a standalone model (`merged/`).

The base is loaded in 16/32-bit even for QLoRA runs: merging into 4-bit weights would round the
update away, so the merged model is the dequantized base plus B @ A * alpha / r (peft
`merge_and_unload`).
"""
from __future__ import annotations

import json
from pathlib import Path

from tuning.errors import TuningError

MERGED = "merged"


def merge_adapter(base_model: str, adapter_dir: str | Path, output_dir: str | Path, *, device: str = "auto") -> Path:
    """Load `base_model`, apply the PEFT adapter, merge, save model + tokenizer to `output_dir`."""
    from peft import PeftModel

    from lm.loading import load_model, load_tokenizer

    model = PeftModel.from_pretrained(load_model(base_model, device=device), str(adapter_dir))
    merged = model.merge_and_unload()
    out = Path(output_dir)
    merged.save_pretrained(out)
    load_tokenizer(str(adapter_dir) if (Path(adapter_dir) / "tokenizer_config.json").exists() else base_model
                   ).save_pretrained(out)
    return out


def merge_run(run_dir: str | Path, output_dir: str | Path | None = None) -> Path:
    """Merge a finished tuning run's adapter/ into its base; saved to RUN_DIR/merged by default."""
    run_dir = Path(run_dir)
    adapter = run_dir / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise TuningError(f"{run_dir} has no adapter to merge (is it finished? a full fine-tune has nothing to merge)")
    spec = json.loads((run_dir / "spec.json").read_text())
    return merge_adapter(spec["model"], adapter, output_dir or run_dir / MERGED, device=spec.get("device", "auto"))
