"""Static figures shared by the panels, the notebooks and the comparison: activations, gradients, a
maximisation run, a summary table, a methods × classes sample grid. Builders return the Figure; nothing is
shown or saved as a side effect."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from stochvis.viz import display as show


def activation_figure(image: torch.Tensor, activation: torch.Tensor, channel: int, *, title: str = "") -> plt.Figure:
    """The source documents' activation figure: the grid of every channel, the input, a zoom."""
    figure = plt.figure(figsize=(12, 7))
    grid_ax = figure.add_axes([0.0, 0.0, 0.6, 1.0])
    show.channel_grid(activation, highlight=channel, ax=grid_ax)
    grid_ax.set_title(f"{title}: {activation.shape[0]} channels", fontsize=11)
    input_ax = figure.add_axes([0.63, 0.52, 0.36, 0.44])
    input_ax.imshow(show.to_numpy_image(image))
    input_ax.set_title("input", fontsize=10)
    input_ax.set_axis_off()
    zoom_ax = figure.add_axes([0.63, 0.02, 0.36, 0.44])
    zoom_ax.imshow(activation[channel].detach().float().cpu().numpy(), cmap="viridis")
    zoom_ax.set_title(f"channel {channel} (zoom)", fontsize=10)
    zoom_ax.set_axis_off()
    return figure


def gradient_figure(image: torch.Tensor, result, *, style: str = "rgb", title: str = "") -> plt.Figure:
    """The input, the gradient drawn in ``style``, and the absolute map over the image."""
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    axes[0].imshow(show.to_numpy_image(image))
    axes[0].set_title("input", fontsize=10)
    axes[0].set_axis_off()
    show.show_saliency(axes[1], result.gradient[0], style=style, image=image)
    axes[1].set_title(f"{result.method} ({style})", fontsize=10)
    show.show_saliency(axes[2], result.gradient[0], style="overlay", image=image)
    axes[2].set_title("|gradient| over the input", fontsize=10)
    note = f"  · {len(result.rerouted)} activations rerouted" if result.rerouted else ""
    note += f", {len(result.skipped)} not reroutable" if result.skipped else ""
    figure.suptitle(f"{title}{note}", fontsize=11)
    figure.tight_layout()
    return figure


def maximization_figure(result, *, title: str = "", images: torch.Tensor | None = None) -> plt.Figure:
    """The optimised image(s) beside the objective curve (one line per image); ``images`` replaces what is
    drawn (e.g. the images with their importance as transparency)."""
    images = result.images if images is None else images
    count = images.shape[0]
    figure, axes = plt.subplots(1, count + 1, figsize=(3.2 * (count + 1), 3.2),
                                gridspec_kw={"width_ratios": [1] * count + [1.3]})
    for index in range(count):
        axes[index].imshow(show.to_numpy_image(images[index]))
        axes[index].set_axis_off()
    curve = axes[-1]
    curve.plot(result.history.numpy())
    curve.set_xlabel("step")
    curve.set_ylabel("objective")
    curve.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def table_figure(rows: Sequence[dict], columns: Sequence[str], header: Sequence[str], *, title: str = "",
                 highlight: Sequence[str] = ()) -> plt.Figure:
    """A formatted summary (one dict per method, as ``metrics.format_summary`` gives) drawn as a table;
    rows whose method is in ``highlight`` are tinted."""
    figure, ax = plt.subplots(figsize=(19, 0.42 * (len(rows) + 1) + 0.6))
    ax.axis("off")
    table = ax.table(cellText=[[r["method"]] + [r[k] for k in columns] for r in rows], colLabels=list(header),
                     loc="center", cellLoc="center", colWidths=[0.19] + [0.09] * len(columns))
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.4)
    for (r, _), cell in table.get_celld().items():
        if r > 0 and rows[r - 1]["method"] in highlight:
            cell.set_facecolor("#e8f0fe")
    ax.set_title(title, fontsize=10)
    return figure


def samples_figure(samples: dict[str, dict[int, torch.Tensor]], class_names: Sequence[str], *, shown: int = 3
                   ) -> plt.Figure:
    """Rows: methods; columns: classes; each cell the first ``shown`` grey samples side by side."""
    methods = list(samples)
    classes = list(next(iter(samples.values())))
    figure, axes = plt.subplots(len(methods), len(classes), squeeze=False,
                                figsize=(1.25 * shown * len(classes) * 0.7 + 2, 1.0 * len(methods) + 0.6))
    for r, method in enumerate(methods):
        for col, c in enumerate(classes):
            strip = torch.cat(list(samples[method][c][:shown, 0].float().cpu()), dim=1)
            axes[r, col].imshow(strip, cmap="gray", vmin=0, vmax=1)
            axes[r, col].set_xticks([])
            axes[r, col].set_yticks([])
            if r == 0:
                axes[r, col].set_title(class_names[c], fontsize=8)
        axes[r, 0].set_ylabel(method, fontsize=7, rotation=0, ha="right", va="center")
    figure.tight_layout()
    return figure
