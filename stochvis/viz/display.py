"""Turning tensors into pictures: images, channel grids, figure saving.

Kept apart from the algorithms so that no stage draws as a side effect: notebooks and widgets call
these on the tensors the stages return.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch


def to_numpy_image(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) or (1, H, W) tensor in [0, 1] → (H, W, 3) or (H, W) float array for imshow."""
    array = image.detach().float().cpu().clamp(0, 1)
    if array.dim() == 4:
        if array.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {array.shape[0]}")
        array = array[0]
    array = array.numpy()
    if array.ndim == 3:
        array = array.transpose(1, 2, 0)
        if array.shape[2] == 1:
            array = array[..., 0]
    return array


def normalize_map(values: torch.Tensor, *, percentile: float = 100.0, signed: bool = False) -> torch.Tensor:
    """Scale a map to [0, 1] (or [-1, 1] when ``signed``) clipping at a percentile of |values|."""
    values = values.detach().float().cpu()
    bound = torch.quantile(values.abs().flatten(), percentile / 100.0) if values.numel() else torch.tensor(1.0)
    bound = bound.clamp_min(1e-12)
    scaled = (values / bound).clamp(-1, 1)
    return scaled if signed else scaled.clamp_min(0) if values.min() >= 0 else (scaled + 1) / 2


def channel_grid(
    activation: torch.Tensor,
    *,
    columns: int | None = None,
    highlight: int | None = None,
    ax: plt.Axes | None = None,
    cmap: str = "viridis",
    per_channel: bool = True,
) -> plt.Axes:
    """Every channel of a (C, H, W) activation as a tiled grid (one tile per channel).

    ``per_channel`` scales each tile to its own range (shows patterns in weak channels); otherwise
    one scale for all (shows which channels fire most). ``highlight`` draws a box around a channel.
    """
    act = activation.detach().float().cpu()
    if act.dim() == 4:
        act = act[0]
    if act.dim() != 3:
        raise ValueError(f"expected a (C, H, W) activation, got shape {tuple(act.shape)}")
    channels, height, width = act.shape
    columns = columns or math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / columns)
    if per_channel:
        low = act.amin(dim=(1, 2), keepdim=True)
        high = act.amax(dim=(1, 2), keepdim=True)
    else:
        low, high = act.min(), act.max()
    tiles = (act - low) / (high - low).clamp_min(1e-12)
    pad = 1
    canvas = np.ones((rows * (height + pad) - pad, columns * (width + pad) - pad))
    for index in range(channels):
        r, c = divmod(index, columns)
        canvas[r * (height + pad): r * (height + pad) + height, c * (width + pad): c * (width + pad) + width] = tiles[index].numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8 * rows / columns))
    ax.imshow(canvas, cmap=cmap, interpolation="nearest")
    if highlight is not None:
        r, c = divmod(int(highlight), columns)
        ax.add_patch(plt.Rectangle((c * (width + pad) - 0.5, r * (height + pad) - 0.5), width, height,
                                   fill=False, edgecolor="red", linewidth=2))
    ax.set_axis_off()
    return ax


def image_grid(
    images: torch.Tensor | Sequence[torch.Tensor],
    *,
    titles: Sequence[str] | None = None,
    columns: int | None = None,
    size: float = 2.5,
    cmap: str | None = None,
) -> plt.Figure:
    """A figure with one panel per image ((N, C, H, W) in [0, 1], or a list of such images)."""
    items = list(images)
    columns = columns or min(len(items), 8)
    rows = math.ceil(len(items) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for index, image in enumerate(items):
        ax = axes.flat[index]
        ax.imshow(to_numpy_image(image), cmap=cmap or ("gray" if image.shape[-3] == 1 else None))
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    figure.tight_layout()
    return figure


def save_figure(figure: plt.Figure, path: str | Path, *, dpi: int = 110) -> Path:
    """Save atomically as PNG (a half-written figure never replaces a good one) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png")
    os.close(fd)
    try:
        figure.savefig(tmp, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
        plt.close(figure)
    return path


# ------------------------------------------------------------------------------------------
# Gradient / saliency maps
# ------------------------------------------------------------------------------------------

def _one_map(values: torch.Tensor) -> torch.Tensor:
    values = values.detach().float().cpu()
    if values.dim() == 4:
        if values.shape[0] != 1:
            raise ValueError(f"expected one map, got a batch of {values.shape[0]}")
        values = values[0]
    return values


def clip_percentile(values: torch.Tensor, percentile: float = 99.0) -> torch.Tensor:
    """Clip |values| at their ``percentile``: a few huge gradient pixels otherwise wash out the map."""
    values = values.detach().float().cpu()
    bound = torch.quantile(values.abs().flatten(), percentile / 100.0) if values.numel() else torch.tensor(0.0)
    return values.clamp(-float(bound), float(bound))


def absolute_map(gradient: torch.Tensor, *, percentile: float = 99.0, reduce: str = "max") -> torch.Tensor:
    """(C, H, W) gradient → (H, W) in [0, 1]: |g| reduced over colour (Simonyan's max, or sum),
    clipped at ``percentile`` and scaled."""
    magnitude = _one_map(gradient).abs()
    if magnitude.dim() == 3:
        if reduce not in ("max", "sum"):
            raise ValueError(f"reduce must be 'max' or 'sum', got {reduce!r}")
        magnitude = magnitude.amax(0) if reduce == "max" else magnitude.sum(0)
    return normalize_map(magnitude, percentile=percentile)


def signed_map(gradient: torch.Tensor, *, percentile: float = 99.0) -> torch.Tensor:
    """(C, H, W) gradient → (H, W) in [-1, 1]: summed over colour, clipped at ``percentile``.
    Show with a diverging colormap centred on 0 (``vmin=-1, vmax=1``)."""
    values = _one_map(gradient)
    if values.dim() == 3:
        values = values.sum(0)
    return normalize_map(values, percentile=percentile, signed=True)


def gradient_image(gradient: torch.Tensor, *, percentile: float = 99.0) -> torch.Tensor:
    """(C, H, W) gradient → (C, H, W) image in [0, 1], grey = 0: the usual picture of guided
    backprop and deconvnet, where colour shows which input channel the gradient favours."""
    return (normalize_map(_one_map(gradient), percentile=percentile, signed=True) + 1) / 2


def overlay(image: torch.Tensor, heat: torch.Tensor, *, alpha: float = 0.5, cmap: str = "inferno") -> np.ndarray:
    """A (H, W) map in [0, 1] coloured with ``cmap`` and blended over a (3, H, W) image → (H, W, 3)."""
    base = to_numpy_image(image)
    if base.ndim == 2:
        base = np.stack([base] * 3, axis=-1)
    heat = _one_map(heat).clamp(0, 1).numpy()
    if heat.shape != base.shape[:2]:
        raise ValueError(f"map {heat.shape} and image {base.shape[:2]} differ in size")
    coloured = plt.get_cmap(cmap)(heat)[..., :3]
    return np.clip((1 - alpha) * base + alpha * coloured, 0, 1)


SALIENCY_STYLES = ("absolute", "signed", "rgb", "overlay")  # how a gradient is drawn


def show_saliency(ax: plt.Axes, gradient: torch.Tensor, *, style: str = "absolute", image: torch.Tensor | None = None,
                  percentile: float = 99.0) -> plt.Axes:
    """Draw one gradient on ``ax`` in ``style``: absolute (grey), signed (blue-red), rgb (grey = 0)
    or overlay (absolute map over ``image``)."""
    if style == "absolute":
        ax.imshow(absolute_map(gradient, percentile=percentile).numpy(), cmap="gray", vmin=0, vmax=1)
    elif style == "signed":
        ax.imshow(signed_map(gradient, percentile=percentile).numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    elif style == "rgb":
        ax.imshow(to_numpy_image(gradient_image(gradient, percentile=percentile)))
    elif style == "overlay":
        if image is None:
            raise ValueError("style='overlay' needs the image")
        ax.imshow(overlay(image, absolute_map(gradient, percentile=percentile)))
    else:
        raise ValueError(f"unknown style {style!r}; valid: {', '.join(SALIENCY_STYLES)}")
    ax.set_axis_off()
    return ax


def saliency_grid(
    images: torch.Tensor,
    gradients: dict[str, torch.Tensor],
    *,
    style: str | Sequence[str] = "rgb",
    row_titles: Sequence[str] | None = None,
    percentile: float = 99.0,
    size: float = 2.3,
) -> plt.Figure:
    """One row per image: the image, then each column's gradient ((N, C, H, W) per column name).

    ``style`` is one of :data:`SALIENCY_STYLES` for all columns or one per column."""
    images = images.detach().cpu()
    styles = [style] * len(gradients) if isinstance(style, str) else list(style)
    if len(styles) != len(gradients):
        raise ValueError(f"{len(styles)} styles for {len(gradients)} columns")
    rows, columns = images.shape[0], len(gradients) + 1
    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for row in range(rows):
        axes[row, 0].imshow(to_numpy_image(images[row]))
        axes[row, 0].set_axis_off()
        if row_titles is not None:
            axes[row, 0].set_title(row_titles[row], fontsize=9)
        for column, ((name, grads), how) in enumerate(zip(gradients.items(), styles), start=1):
            show_saliency(axes[row, column], grads[row], style=how, image=images[row], percentile=percentile)
            if row == 0:
                axes[row, column].set_title(name, fontsize=10)
    figure.tight_layout()
    return figure
