"""`import lm` and every one of its modules loads no heavy library: tuning, RAG and the pages
import lm early, and advisor/estimator must start at once (torch+transformers take ~7 s)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("lm", "lm.errors", "lm.offline", "lm.refs", "lm.loading", "lm.generate", "lm.embeddings", "lm.tiny",
           "lm.gguf", "lm.gguf_writer", "lm.conversion", "lm.engines", "lm.openvino_runner")
HEAVY = ("torch", "transformers", "peft", "trl", "chromadb", "sentence_transformers", "gguf", "huggingface_hub",
         "tokenizers", "bitsandbytes", "openvino", "openvino_genai", "numpy")
CODE = f"""
import importlib, sys
for name in {MODULES!r}:
    importlib.import_module(name)
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def test_every_lm_module_imports_without_a_heavy_library():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
