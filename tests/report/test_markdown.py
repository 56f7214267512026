"""A document as Markdown: headings by level, every block kind, cells escaped for a pipe table."""
from report import Chart, render_markdown


def test_every_block_kind(doc):
    md = render_markdown(doc)
    assert md.startswith("# Every block | once\n\n## First\n\nRecommendation: LoRA.\n\nWhat the figures show, first.\n")
    assert "\n- one\n- two\n" in md and "\n### Inside\n" in md
    assert "| arm | score | yes | count |\n|---|---|---|---|\n" in md
    assert "| Base \\| zero-shot | 0.500 | yes | 3 |\n| Fine-tuned | - | no | - |\n" in md
    assert "```bash\nftadvisor tune --model m\n```" in md
    assert "_Memory: the picture is in the HTML report._" in md
    assert md.endswith("\n") and not md.endswith("\n\n")


def test_markdown_draws_no_chart(doc):
    drawn = []
    doc.sections[1].blocks[2] = Chart("Memory", lambda fmt: drawn.append(fmt) or b"")
    render_markdown(doc)
    assert drawn == []
