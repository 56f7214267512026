"""`import advisor` (and a full recommendation) loads no heavy library."""
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "chromadb", "peft", "trl", "sentence_transformers", "streamlit",
         "matplotlib", "reportlab")

CODE = """
import sys
from pathlib import Path
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


COMPARISON_CODE = """
import sys
from pathlib import Path
from pathlib import Path
from advisor import Answers, recommend, render_report
from tests.advisor.comparison_run import comparison_results
a = Answers()
md = render_report(a, recommend(a), "md", comparison=comparison_results(Path("runs/r")))
assert b"## Comparison results" in md
print(",".join(m for m in %r if m in sys.modules))
""" % (HEAVY,)


def test_a_markdown_report_with_a_comparison_loads_no_heavy_library():
    """The comparison's results, costs and evidence are pydantic models; its chart (matplotlib)
    is drawn only for html and pdf."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", COMPARISON_CODE], capture_output=True, text=True, timeout=120,
                         cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
