"""Answer a list of prompts with a base model, a fine-tuned run, or a model already loaded.

Used by the RAG answers and the comparison: batched (default 8 prompts per `generate()` call,
left-padded, grouped by prompt length so batches hold little padding), greedy by default, the
chat template applied when the tokenizer has one; each answer has its own token counts.

Batched greedy answers equal one-at-a-time answers in float32, the CPU default (tests on the tiny
model and on SmolLM2). In bfloat16 they do not: a prompt's logits in a padded batch differ from
its logits alone by a few bf16 steps (~0.5 on logits of ~30, where one bf16 step at 32 is 0.25),
enough to flip greedy choices between near-tied tokens, while an unpadded batch gives identical
logits. So padding changes the reduction lengths of attention (masked keys add exact zeros, but
in another order), and bf16 rounding turns that into different tokens; positions are right (in
float32 the same prompts differ by ~4e-5). Measured in README "Offline models".

Engines (lm.engines): transformers, the reference, as above; or OpenVINO on a CPU, which takes the
same token ids unpadded (lm.openvino_runner) and gives the same greedy answers in float32. The
default here is transformers; the comparison and `ftadvisor rag ask` default to auto.

Latency, honestly: `latency_s` is the wall time of the `generate()` call an answer came from
(what a request in that batch waited), `share_s` that time over the batch size (its share of the
machine, not a latency). `measure_latency` times single requests on a small sample.
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from common.vocabulary import Engine

DEFAULT_BATCH_SIZE = 8
# A prompt is the user's turn, or a conversation ending with the user's turn (earlier user and
# assistant turns: demonstrations, for few-shot prompting). The system prompt is given apart.
Prompt = str | list[dict[str, str]]


class Generation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: Prompt
    text: str = Field(description="The answer, special tokens removed.")
    prompt_tokens: int = Field(ge=0, description="Tokens of this prompt (its padding not counted).")
    completion_tokens: int = Field(ge=0, description="New tokens of this answer, up to and with its eos.")
    latency_s: float = Field(ge=0, description="Wall time of the generate() call that produced it.")
    share_s: float = Field(ge=0, description="latency_s / batch_size: this answer's share of the call.")
    batch_size: int = Field(ge=1, description="Prompts answered by that call (latency is shared).")


class LatencySample(BaseModel):
    """Single requests, one after the other, after an untimed warm-up."""

    model_config = ConfigDict(extra="forbid")

    requests: int = Field(ge=1)
    latencies_s: list[float] = Field(description="Wall time of each request, in order.")
    completion_tokens: list[int]
    median_latency_s: float = Field(ge=0)
    max_latency_s: float = Field(ge=0)
    tokens_per_s: float = Field(ge=0, description="All new tokens over all the requests' time.")


def _run_model_dir(run_dir: Path) -> tuple[str, str | None, dict[str, Any]]:
    """(model folder or base model, adapter folder or None, spec) for a tuning run folder.

    The run folder's layout is a contract with `tuning`, read from its files only (lm imports no
    tuning): `spec.json` (its `model` is the base, its `quant` how an adapter's base is loaded),
    then `merged/` (tuning.merge) or `model/` (full fine-tuning), each a model folder with
    config.json, else `adapter/` (LoRA/QLoRA, peft's adapter_config.json)."""
    spec = json.loads((run_dir / "spec.json").read_text())
    for name in ("merged", "model"):
        if (run_dir / name / "config.json").exists():
            return str(run_dir / name), None, spec
    if (run_dir / "adapter" / "adapter_config.json").exists():
        return spec["model"], str(run_dir / "adapter"), spec
    raise FileNotFoundError(f"{run_dir} has no trained model yet (no adapter/, model/ or merged/)")


def _model_source(model_or_run_dir: Any) -> tuple[str, str | None, str]:
    """(base model reference, adapter folder or None, the base's quantization) of a run folder,
    a PEFT adapter folder, or a model reference (a folder, a hub id, an offline model's name)."""
    source, adapter, quant = str(model_or_run_dir).strip(), None, "none"
    path = Path(source).expanduser()
    if (path / "spec.json").exists():
        source, adapter, spec = _run_model_dir(path)
        if adapter:  # an adapter runs on the base it was trained on (4-bit for QLoRA)
            quant = spec.get("quant") or "none"
    elif (path / "adapter_config.json").exists():
        source, adapter = json.loads((path / "adapter_config.json").read_text())["base_model_name_or_path"], str(path)
    return source, adapter, quant


class ModelChoice(NamedTuple):
    """What answers: a base model (a folder or a hub id), a LoRA adapter folder on it or None, the
    base's quantization, and the engine that runs them ("transformers" or "openvino")."""

    source: str
    adapter: str | None
    quant: str
    engine: str


def choose_model(model_or_run_dir: Any, *, device: str = "auto", dtype: str | None = None,
                 engine: Engine = "transformers") -> ModelChoice:
    """What `load_for_inference` loads for a run folder, a model folder, a hub id, a known offline
    model name or a PEFT adapter folder, and with which engine (lm.engines), without loading it."""
    source, adapter, quant = _model_source(model_or_run_dir)
    if engine == "transformers":
        return ModelChoice(source, adapter, quant, "transformers")
    from lm.engines import choose_engine
    from lm.refs import check_available

    source = check_available(source)
    return ModelChoice(source, adapter, quant,
                       choose_engine(engine, source, adapter, quant=quant, device=device, dtype=dtype))


def load_chosen(choice: ModelChoice, *, device: str = "auto", dtype: str | None = None) -> Any:
    """The model `choice` names, in eval mode: a transformers model (the adapter on it), or an
    lm.openvino_runner.OpenVinoModel. `dtype` (a torch dtype name) defaults to the device's:
    float32 on a CPU."""
    if choice.engine == "openvino":
        from lm.engines import load_openvino

        return load_openvino(choice.source, choice.adapter)
    from lm.loading import load_model

    model = load_model(choice.source, quant=choice.quant, device=device, dtype=dtype)
    if choice.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, choice.adapter)
    return model.eval()


def load_for_inference(model_or_run_dir: Any, *, device: str = "auto", dtype: str | None = None,
                       engine: Engine = "transformers") -> tuple[Any, Any]:
    """(model, tokenizer) for what `choose_model` picks, or a (model, tokenizer) pair (returned as
    is, whatever `engine` says)."""
    if isinstance(model_or_run_dir, tuple):
        return model_or_run_dir
    from lm.loading import load_tokenizer

    choice = choose_model(model_or_run_dir, device=device, dtype=dtype, engine=engine)
    return load_chosen(choice, device=device, dtype=dtype), load_tokenizer(choice.adapter or choice.source)


def _turns(prompt: Prompt) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


def prompt_text(tokenizer: Any, prompt: Prompt, system: str | None = None, use_chat_template: bool = True) -> str:
    """The text the model reads: the chat template over the system prompt and the turns, or without
    a template the turns' contents one after the other."""
    if not (use_chat_template and getattr(tokenizer, "chat_template", None)):
        return prompt if isinstance(prompt, str) else "\n\n".join(turn["content"] for turn in prompt)
    messages = ([{"role": "system", "content": system}] if system else []) + _turns(prompt)
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def prompt_tokens(tokenizer: Any, prompt: Prompt, system: str | None = None) -> int:
    """Tokens the model reads for `prompt`, exactly as `generate_answers` encodes it."""
    special = not getattr(tokenizer, "chat_template", None)
    return len(tokenizer(prompt_text(tokenizer, prompt, system), add_special_tokens=special)["input_ids"])


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(configured if isinstance(configured, list) else [configured])
    return {i for i in ids | {tokenizer.eos_token_id} if i is not None}


def _answer_length(tokens: list[int], eos: set[int]) -> int:
    """New tokens up to and with the first eos; what follows is padding (often the eos again)."""
    for n, token in enumerate(tokens, start=1):
        if token in eos:
            return n
    return len(tokens)


def _batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Prompt indices grouped by length (longest first), so a batch pads little."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _new_tokens(model: Any, tokenizer: Any, batch: list[list[int]], max_new_tokens: int, eos: set[int],
                sampling: dict[str, Any]) -> list[list[int]]:
    """Each prompt's new token ids (past its eos: padding). transformers gets the batch
    left-padded, so answers start aligned; OpenVINO takes the prompts unpadded."""
    from lm.openvino_runner import OpenVinoModel

    if isinstance(model, OpenVinoModel):
        return model.generate(batch, max_new_tokens, eos, sampling)
    import torch

    tokenizer.padding_side = "left"
    enc = tokenizer.pad({"input_ids": batch}, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling)
    return out[:, enc["input_ids"].shape[1]:].tolist()


def generate_answers(
    model_or_run_dir: Any,
    prompts: list[Prompt],
    max_new_tokens: int = 128,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    greedy: bool = True,
    temperature: float = 0.7,
    system: str | None = None,
    use_chat_template: bool = True,
    device: str = "auto",
    dtype: str | None = None,
    engine: Engine = "transformers",
) -> list[Generation]:
    """One `Generation` per prompt, in the prompts' order. Greedy decoding unless `greedy=False`.
    `engine` (lm.engines) picks what runs the model when it is loaded here."""
    model, tokenizer = load_for_inference(model_or_run_dir, device=device, dtype=dtype, engine=engine)
    texts = [prompt_text(tokenizer, p, system, use_chat_template) for p in prompts]
    special = not use_chat_template  # the chat template already holds the special tokens
    ids = tokenizer(texts, add_special_tokens=special)["input_ids"]
    sampling = {"do_sample": False} if greedy else {"do_sample": True, "temperature": temperature}
    eos = _eos_ids(model, tokenizer)
    results: dict[int, Generation] = {}
    for batch in _batches([len(x) for x in ids], max(1, batch_size)):
        started = time.perf_counter()
        new = _new_tokens(model, tokenizer, [ids[i] for i in batch], max_new_tokens, eos, sampling)
        latency = time.perf_counter() - started
        for row, i in enumerate(batch):
            n_new = _answer_length(new[row], eos)
            results[i] = Generation(
                prompt=prompts[i], text=tokenizer.decode(new[row][:n_new], skip_special_tokens=True).strip(),
                prompt_tokens=len(ids[i]), completion_tokens=n_new, latency_s=latency,
                share_s=latency / len(batch), batch_size=len(batch),
            )
    return [results[i] for i in range(len(prompts))]


def measure_latency(model_or_run_dir: Any, prompts: list[str], max_new_tokens: int = 128, *,
                    sample: int = 5, **settings: Any) -> LatencySample:
    """Single-request latency: the first `sample` prompts answered one at a time (batch size 1)
    after one untimed warm-up request, with the same settings as `generate_answers`."""
    if not prompts:
        from lm.errors import ModelError

        raise ModelError("measure_latency needs at least one prompt")
    loaded = load_for_inference(model_or_run_dir, device=settings.pop("device", "auto"),
                                dtype=settings.pop("dtype", None), engine=settings.pop("engine", "transformers"))
    chosen = prompts[: max(1, sample)]
    generate_answers(loaded, chosen[:1], max_new_tokens=2, batch_size=1, **settings)  # one-off set-up untimed
    timed = [generate_answers(loaded, [p], max_new_tokens, batch_size=1, **settings)[0] for p in chosen]
    latencies = [g.latency_s for g in timed]
    tokens = [g.completion_tokens for g in timed]
    return LatencySample(
        requests=len(timed), latencies_s=latencies, completion_tokens=tokens,
        median_latency_s=statistics.median(latencies), max_latency_s=max(latencies),
        tokens_per_s=sum(tokens) / sum(latencies) if sum(latencies) else 0.0,
    )
