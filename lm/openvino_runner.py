"""Answers from OpenVINO GenAI on the CPU, on a GGUF file that lm.conversion wrote: token ids in,
token ids out, so the prompt's ids and the answer's text come from the model folder's own
tokenizer and chat template exactly as with transformers (lm.generate).

Float32 compute, as transformers on a CPU: the CPU plugin would otherwise compute in bf16 on CPUs
with AVX512_BF16 or AMX, keep the KV cache in u8 and quantize activations to int8; on SmolLM2,
whose first answer tokens hang on logit gaps of 0.04-0.6, bf16 compute left 6 of 8 greedy answers
equal to transformers float32's, float32 compute 8 of 8 (bench/bench_engines.py). The weights stay
F16 in the file (float32 values rounded to F16 once).

`ContinuousBatchingPipeline` answers a batch as separate sequences (no padding), so batched answers
equal one-at-a-time answers. Its prefix cache stays off (the default), so an answer never depends
on which prompts ran before.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

# CPU plugin properties for float32 results (OpenVINO docs, "CPU device": inference precision,
# KV cache precision, dynamic quantization). The paged-attention executor refuses an f32 KV cache
# unless the inference precision is f32 too.
EXACT_CPU = {"INFERENCE_PRECISION_HINT": "f32", "KV_CACHE_PRECISION": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}


class OpenVinoModel:
    """A GGUF model compiled for the CPU, with the transformers config and generation config of
    the folder it came from (context length, eos ids, sampling defaults)."""

    device = "cpu"

    def __init__(self, gguf_path: Path, model_dir: str, properties: dict[str, Any] = EXACT_CPU) -> None:
        """`properties`: the CPU plugin's; bench/bench_engines.py passes {} to measure its defaults."""
        import openvino_genai
        from transformers import AutoConfig, GenerationConfig

        self.gguf_path = Path(gguf_path)
        self.config = AutoConfig.from_pretrained(model_dir)
        try:
            self.generation_config = GenerationConfig.from_pretrained(model_dir)
        except OSError:  # no generation_config.json: the config's own ids
            self.generation_config = GenerationConfig.from_model_config(self.config)
        self._og = openvino_genai
        self.pipe = openvino_genai.ContinuousBatchingPipeline(str(self.gguf_path), openvino_genai.SchedulerConfig(),
                                                              "CPU", properties)

    def _config(self, max_new_tokens: int, eos: set[int], sampling: dict[str, Any]):
        config = self._og.GenerationConfig()
        config.max_new_tokens = max_new_tokens
        config.eos_token_id = min(eos)
        config.stop_token_ids = set(eos)
        config.do_sample = bool(sampling.get("do_sample"))
        if config.do_sample:  # transformers' sampling: temperature, then its top-k / top-p defaults (50 / 1.0)
            config.temperature = float(sampling["temperature"])
            config.top_k = int(self.generation_config.top_k or 0) or config.top_k
            config.top_p = float(self.generation_config.top_p or 1.0)
        return config

    def generate(self, batch: list[list[int]], max_new_tokens: int, eos: set[int],
                 sampling: dict[str, Any]) -> list[list[int]]:
        """New token ids per prompt of `batch` (unpadded ids), each ending at its eos or the limit."""
        import numpy as np
        import openvino

        config = self._config(max_new_tokens, eos, sampling)
        prompts = [openvino.Tensor(np.array([ids], dtype=np.int64)) for ids in batch]
        results = self.pipe.generate(prompts, [config] * len(batch))
        return [list(result.m_generation_ids[0]) for result in results]
