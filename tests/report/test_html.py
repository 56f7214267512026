"""A document as ONE self-contained HTML file: every block kind, text escaped, the chart inline SVG."""
import re

from report import render_html


def test_every_block_kind_in_one_self_contained_file(doc):
    html = render_html(doc).decode()
    assert html.startswith("<!DOCTYPE html>") and "<title>Every block | once</title>" in html
    assert '<p class="headline">Recommendation: LoRA.</p>' in html
    assert '<p class="evidence">What the figures show, first.</p>' in html
    assert "<p>A body paragraph with &lt;angle&gt; &amp; ampersand.</p>" in html
    assert '<p class="note">How to read the table.</p>' in html
    assert "<ul><li>one</li><li>two</li></ul>" in html and "<h3>Inside</h3>" in html
    assert ("<thead><tr><th>arm</th><th>score</th><th>yes</th><th>count</th></tr></thead><tbody>"
            "<tr><td>Base | zero-shot</td><td>0.500</td><td>yes</td><td>3</td></tr>"
            "<tr><td>Fine-tuned</td><td>-</td><td>no</td><td>-</td></tr></tbody>") in html
    assert "<pre><code>ftadvisor tune --model m</code></pre>" in html
    svg = html[html.index('<figure class="chart">'):html.index("</figure>")]
    assert "<svg" in svg and "GiB per GPU" in svg  # the chart's text stays text
    assert "<figcaption>Bars: GiB per GPU.</figcaption>" in html
    assert "<?xml" not in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html) and "<script" not in html and "<link" not in html
