"""`import advisor` (and a full recommendation) loads no heavy library."""
import subprocess
import sys

HEAVY = ("torch", "transformers", "chromadb", "peft", "trl", "sentence_transformers", "streamlit",
         "matplotlib", "reportlab")

CODE = """
import sys
import advisor
from advisor import Answers, recommend
rec = recommend(Answers(needs=["tone_style"], labeled_examples=2000, gpu="RTX 4090"))
assert rec.finetune is not None
print(",".join(m for m in %r if m in sys.modules))
""" % (HEAVY,)


def test_import_and_recommend_load_no_heavy_library():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
