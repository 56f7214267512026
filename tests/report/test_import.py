"""`import report` and a Markdown rendering load neither matplotlib nor reportlab (nor streamlit):
the advisor imports report and must start instantly."""
import subprocess
import sys
from pathlib import Path

CODE = """
import sys
from report import Document, Paragraph, Section, render_markdown
render_markdown(Document("t", [Section("s", [Paragraph("p")])]))
print(",".join(m for m in ("matplotlib", "reportlab", "streamlit", "advisor", "compare") if m in sys.modules))
"""


def test_import_and_markdown_load_no_heavy_library_and_neither_advisor_nor_compare():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
