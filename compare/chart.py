"""One picture of a comparison: each arm a point, its quality (the evidence's metric) against its
serving cost per 1k queries. Up and to the left is better. The page and the report show the same
picture (PNG or SVG bytes)."""
from __future__ import annotations

import io

from compare.spec import ARM_TITLES


def quality_cost_chart(results, fmt: str = "png") -> bytes:
    """`results` (compare.results.Results with evidence and costs) as a scatter; `fmt` png or svg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # keep SVG text as text
    evidence, costs = results.evidence, results.costs
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
    colors = plt.get_cmap("tab10").colors
    priced = costs is not None and all(arm in costs.arms for arm in evidence.scores)
    for i, (arm, score) in enumerate(evidence.scores.items()):
        x = costs.arms[arm].per_1k_queries_usd if priced else i
        marker = "*" if arm == evidence.best_arm else "o"
        ax.scatter([x], [score], s=160 if marker == "*" else 70, marker=marker, color=colors[i % len(colors)],
                   zorder=3, label=ARM_TITLES.get(arm, arm))
        ax.annotate(ARM_TITLES.get(arm, arm), (x, score), textcoords="offset points", xytext=(7, 5), fontsize=8)
    ax.set_ylabel(evidence.metric_label)
    ax.set_ylim(0, max(1.0, *evidence.scores.values()) * 1.08)
    if priced:
        ax.set_xlabel(f"$ per 1k queries at {costs.gpu} (serving estimate)")
        ax.margins(x=0.25)
    else:
        ax.set_xticks(range(len(evidence.scores)), [ARM_TITLES.get(a, a) for a in evidence.scores], fontsize=7)
        ax.set_xlabel("no GPU price: arms in order")
    ax.grid(alpha=0.3)
    ax.set_title(f"{evidence.metric_label} against serving cost ({results.eval_examples} questions)", fontsize=10)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return buf.getvalue()
