"""One picture of a comparison: each arm a point, its quality (the evidence's metric) against its
serving cost per 1k queries. Up and to the left is better. The page and the report show the same
picture (PNG or SVG bytes)."""
from __future__ import annotations

from compare.spec import ARM_TITLES
from report.figures import figure_bytes, pyplot

LABEL_STEP_PT = 11  # one line of 8-point text


def unstack_labels(fig, labels: list) -> None:
    """Lift each label (in order) by a line until its box overlaps none placed before it, so points
    that nearly coincide keep readable labels."""
    renderer = fig.canvas.get_renderer()
    placed = []
    for label in labels:
        for _ in range(len(labels)):
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            x, y = label.xyann
            label.xyann = (x, y + LABEL_STEP_PT)
        placed.append(label.get_window_extent(renderer))


def chart_metric(results) -> tuple[str, dict[str, float], str | None]:
    """The metric the picture plots: its label, each arm's score, the best arm (the evidence's;
    results from before the evidence paragraph: token F1)."""
    if results.evidence:
        return results.evidence.metric_label, results.evidence.scores, results.evidence.best_arm
    scores = {a: m.token_f1 for a, m in results.arms.items()}
    return "token F1", scores, max(scores, key=scores.get)


def quality_cost_chart(results, fmt: str = "png") -> bytes:
    """`results` (compare.results.Results with its evidence and costs) as a scatter; `fmt` png or svg."""
    plt = pyplot()
    costs = results.costs
    label, scores, best = chart_metric(results)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    colors = plt.get_cmap("tab10").colors
    priced = costs is not None and all(arm in costs.arms for arm in scores)
    xs = {arm: costs.arms[arm].per_1k_queries_usd if priced else i for i, arm in enumerate(scores)}
    middle = (min(xs.values()) + max(xs.values())) / 2
    labels = []
    for i, (arm, score) in enumerate(scores.items()):
        x = xs[arm]
        marker = "*" if arm == best else "o"
        ax.scatter([x], [score], s=160 if marker == "*" else 70, marker=marker, color=colors[i % len(colors)],
                   zorder=3, label=ARM_TITLES.get(arm, arm))
        right_half = x > middle  # labels of the right-hand points go to their left, inside the plot
        labels.append(ax.annotate(ARM_TITLES.get(arm, arm), (x, score), textcoords="offset points", fontsize=8,
                                  xytext=(-7 if right_half else 7, 6), ha="right" if right_half else "left"))
    ax.set_ylabel(label)
    ax.set_ylim(-0.05, max(1.0, *scores.values()) * 1.1)  # a point at 0 stays whole
    if priced:
        ax.set_xlabel(f"$ per 1k queries at {costs.gpu} (serving estimate)")
        ax.margins(x=0.3)
        ax.set_xlim(left=0)  # no negative dollars
    else:
        ax.set_xticks(range(len(scores)), [ARM_TITLES.get(a, a) for a in scores], fontsize=7)
        ax.set_xlabel("no GPU price: arms in order")
    ax.grid(alpha=0.3)
    ax.set_title(f"{label} against serving cost ({results.eval_examples} questions)", fontsize=10)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    unstack_labels(fig, labels)
    return figure_bytes(fig, fmt)
