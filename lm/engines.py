"""Which engine answers prompts (common.vocabulary.Engine), chosen once per model load.

- `transformers`: the reference everywhere, and the engine on a GPU (lm.loading, lm.generate).
- `openvino`: OpenVINO GenAI on the CPU (lm.openvino_runner) running a GGUF file converted once
  and cached (lm.conversion), float32 compute: greedy answers equal to transformers float32's,
  several times the tokens/s (bench/bench_engines.py).
- `auto`: openvino on a CPU when the model can go there, else transformers, saying why once per
  process in the log: a CUDA GPU; a dtype other than float32 asked for; a QLoRA adapter (it answers
  on a 4-bit base); openvino-genai not installed; a model that does not convert (lm.gguf_writer:
  Llama architecture and a byte-level BPE tokenizer).

Asking for `openvino` where it cannot run is a ModelError with that reason, in one line.
"""
from __future__ import annotations

import importlib.util
import logging

from common.vocabulary import ENGINES
from lm.errors import ModelError

log = logging.getLogger(__name__)
_said: set[str] = set()


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.warning(message)


def _obstacle(source: str, adapter: str | None, quant: str, dtype: str | None) -> str | None:
    """Why OpenVINO cannot answer for this model on this machine, or None."""
    if dtype not in (None, "float32"):
        return f"dtype {dtype} was asked for, and OpenVINO computes in float32 here"
    if quant != "none":
        return "a QLoRA adapter answers on its 4-bit NF4 base, which a merged GGUF does not reproduce"
    if importlib.util.find_spec("openvino_genai") is None:
        return "openvino-genai is not installed (make install installs it)"
    from lm.conversion import why_not_convertible

    why = why_not_convertible(source, adapter)
    return f"{why}, so it does not convert to a GGUF" if why else None


def choose_engine(engine: str, source: str, adapter: str | None = None, *, quant: str = "none",
                  device: str = "auto", dtype: str | None = None) -> str:
    """"transformers" or "openvino" for `engine` (auto, transformers, openvino) and a model
    (`source`: a folder or a hub id, as lm.refs.check_available gives it; `adapter`: a LoRA
    adapter folder; `quant`: the base's quantization)."""
    if engine not in ENGINES:
        raise ModelError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "transformers":
        return "transformers"
    if engine == "openvino":
        if device == "cuda":
            raise ModelError("engine openvino runs on the CPU: use device auto or cpu, or engine transformers for "
                             "the GPU")
        why = _obstacle(source, adapter, quant, dtype)
        if why:
            raise ModelError(f"engine openvino: {why}: use engine transformers or auto")
        return "openvino"
    from lm.loading import pick_device

    why = "a CUDA GPU is there" if pick_device(device) == "cuda" else _obstacle(source, adapter, quant, dtype)
    if why:
        _say_once(f"engine auto: transformers answers, not OpenVINO: {why}")
        return "transformers"
    return "openvino"


def load_openvino(source: str, adapter: str | None = None):
    """An lm.openvino_runner.OpenVinoModel for `source` (+ `adapter` merged in), converted first
    if no cached conversion exists."""
    from lm.conversion import converted_gguf, local_folder
    from lm.openvino_runner import OpenVinoModel

    return OpenVinoModel(converted_gguf(source, adapter), str(local_folder(source)))
