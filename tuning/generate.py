"""Answer a list of prompts with a base model, a fine-tuned run, or a model already loaded.

Used by the RAG answers and the comparison: batched, greedy by default, the chat template
applied when the tokenizer has one; each answer comes with its token counts and latency.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Generation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str
    text: str = Field(description="The answer, special tokens removed.")
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0, description="New tokens generated (up to and with the eos).")
    latency_s: float = Field(ge=0, description="Wall time of the generate() call that produced it.")
    batch_size: int = Field(ge=1, description="Prompts answered by that call (latency is shared).")


def _run_model_dir(run_dir: Path) -> tuple[str, str | None, dict[str, Any]]:
    """(model folder or base model, adapter folder or None, spec) for a tuning run folder."""
    spec = json.loads((run_dir / "spec.json").read_text())
    for name in ("merged", "model"):
        if (run_dir / name / "config.json").exists():
            return str(run_dir / name), None, spec
    if (run_dir / "adapter" / "adapter_config.json").exists():
        return spec["model"], str(run_dir / "adapter"), spec
    raise FileNotFoundError(f"{run_dir} has no trained model yet (no adapter/, model/ or merged/)")


def load_for_inference(model_or_run_dir: Any, *, device: str = "auto") -> tuple[Any, Any]:
    """(model, tokenizer), in eval mode, from a run folder, a model folder/hub id, a PEFT adapter
    folder, or a (model, tokenizer) pair (returned as is)."""
    if isinstance(model_or_run_dir, tuple):
        return model_or_run_dir
    from tuning.loading import load_model, load_tokenizer

    source, adapter, quant = str(model_or_run_dir), None, "none"
    path = Path(source)
    if (path / "spec.json").exists():
        source, adapter, spec = _run_model_dir(path)
        if adapter:  # an adapter runs on the base it was trained on (4-bit for QLoRA)
            quant = spec.get("quant") or "none"
    elif (path / "adapter_config.json").exists():
        source, adapter = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"], source
    model = load_model(source, quant=quant, device=device)
    tokenizer = load_tokenizer(adapter or source)
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    return model.eval(), tokenizer


def _prompt_text(tokenizer: Any, prompt: str, system: str | None, use_chat_template: bool) -> str:
    if not (use_chat_template and getattr(tokenizer, "chat_template", None)):
        return prompt
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def generate_answers(
    model_or_run_dir: Any,
    prompts: list[str],
    max_new_tokens: int = 128,
    *,
    batch_size: int = 8,
    greedy: bool = True,
    temperature: float = 0.7,
    system: str | None = None,
    use_chat_template: bool = True,
    device: str = "auto",
) -> list[Generation]:
    """One `Generation` per prompt, in order. Greedy decoding unless `greedy=False`."""
    import torch

    model, tokenizer = load_for_inference(model_or_run_dir, device=device)
    tokenizer.padding_side = "left"  # decoder-only batches pad on the left so answers start aligned
    texts = [_prompt_text(tokenizer, p, system, use_chat_template) for p in prompts]
    sampling = {"do_sample": False} if greedy else {"do_sample": True, "temperature": temperature}
    results: list[Generation] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        enc = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=not use_chat_template)
        enc = enc.to(model.device)
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling)
        latency = time.perf_counter() - t0
        new = out[:, enc["input_ids"].shape[1]:]
        for i, prompt in enumerate(prompts[start : start + batch_size]):
            tokens = new[i]
            n_new = int((tokens != tokenizer.pad_token_id).sum()) if tokenizer.pad_token_id is not None else len(tokens)
            results.append(Generation(
                prompt=prompt,
                text=tokenizer.decode(tokens, skip_special_tokens=True).strip(),
                prompt_tokens=int(enc["attention_mask"][i].sum()),
                completion_tokens=n_new,
                latency_s=latency,
                batch_size=len(batch),
            ))
    return results
