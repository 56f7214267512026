"""The report's chart: per-GPU memory of each sized setup as stacked bars, one colour per
estimator component, with the GPU's memory as a line. matplotlib (report.figures) loads only when
a report draws it."""
from __future__ import annotations

from advisor.recommendation import MethodFit
from common.vocabulary import METHOD_LABELS
from report.figures import figure_bytes, pyplot

# Estimator components in stacking order, with plain names.
COMPONENTS = {
    "weights": "weights",
    "adapter": "adapter",
    "gradients": "gradients",
    "optimizer_states": "optimizer states",
    "activations": "activations",
    "logits_loss": "logits + loss",
    "quant_buffers": "quantization buffers",
    "comm_buffers": "communication buffers",
    "allocator_overhead": "allocator overhead",
    "cuda_context": "CUDA context",
}


def memory_chart(fits: list[MethodFit], fmt: str = "png", title: str | None = None) -> bytes:
    """Stacked horizontal bars (GiB per GPU) for each setup; `fmt` is png or svg."""
    plt = pyplot()
    names = [f"{METHOD_LABELS.get(f.method, f.method)}\n{f.gpus} x {f.gpu}" if f.gpu else
             METHOD_LABELS.get(f.method, f.method) for f in fits]
    fig, ax = plt.subplots(figsize=(7.5, 1.9 + 0.75 * len(fits)), dpi=110)
    left = [0.0] * len(fits)
    colors = plt.get_cmap("tab10").colors
    for i, (key, label) in enumerate(COMPONENTS.items()):
        values = [f.memory_gib.get(key, 0.0) for f in fits]
        if not any(v > 0.005 for v in values):
            continue
        ax.barh(names, values, left=left, label=label, color=colors[i % len(colors)], height=0.55)
        left = [lft + v for lft, v in zip(left, values, strict=True)]
    for y, f in enumerate(fits):
        ax.text(left[y] + 0.3, y, f"{f.total_gib:.1f} GiB" + ("" if f.fits else " (does not fit)"),
                va="center", fontsize=8)
        if f.gpu_memory_gib:
            ax.plot([f.gpu_memory_gib] * 2, [y - 0.4, y + 0.4], color="black", linestyle="--", lw=1.2)
    ax.set_xlabel("GiB per GPU (dashed: the GPU's memory)")
    ax.invert_yaxis()
    ax.set_xlim(0, max([*left, *[f.gpu_memory_gib or 0 for f in fits]]) * 1.35 + 1)
    ax.set_title(title or "Estimated memory per GPU", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2 - 0.1 / len(fits)),
              ncol=4, frameon=False)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return figure_bytes(fig, fmt)
