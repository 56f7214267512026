"""A document as a real PDF: its text layer has every block's text, the chart is an image."""
import io

from report import render_pdf


def test_every_block_kind_in_a_real_pdf(doc):
    from pypdf import PdfReader

    pdf = render_pdf(doc)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert reader.metadata.title == "Every block | once"
    for part in ("Every block | once First Recommendation: LoRA. What the figures show, first.",
                 "A body paragraph with <angle> & ampersand. How to read the table.", "one", "two",
                 "Inside arm score yes count Base | zero-shot 0.500 yes 3 Fine-tuned - no -",
                 "ftadvisor tune --model m", "Bars: GiB per GPU."):
        assert part in text
    assert len([name for p in reader.pages for name in p.images]) == 1  # the chart
