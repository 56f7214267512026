"""The quality-against-cost picture: labels of points that nearly coincide do not overprint."""
from __future__ import annotations


def test_labels_of_coinciding_points_are_lifted_apart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from compare.chart import unstack_labels

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    points = [(0.1, 0.0, "Base model (zero-shot)"), (0.1, 0.0, "Few-shot prompting"), (0.2, 0.0, "Fine-tuned"),
              (0.9, 0.8, "Fine-tuned + RAG (hybrid)")]
    labels = [ax.annotate(text, (x, y), textcoords="offset points", xytext=(7, 6), fontsize=8) for x, y, text in points]
    ax.set_xlim(0, 1)
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    assert labels[0].get_window_extent(renderer).overlaps(labels[1].get_window_extent(renderer))  # before
    unstack_labels(fig, labels)
    boxes = [label.get_window_extent(renderer) for label in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert labels[3].xyann == (7, 6)  # a label clear of the others stays where it was
    plt.close(fig)
