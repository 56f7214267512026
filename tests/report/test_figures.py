"""A matplotlib figure as PNG or SVG bytes, closed once drawn."""
from report.figures import figure_bytes, pyplot


def test_png_and_svg_bytes_and_the_figure_is_closed():
    plt = pyplot()
    for fmt, start in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        fig, ax = plt.subplots()
        ax.set_title("GiB per GPU")
        data = figure_bytes(fig, fmt)
        assert data.startswith(start) and not plt.fignum_exists(fig.number)
    assert b"GiB per GPU" in data  # SVG text stays text
