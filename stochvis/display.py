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
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
        plt.close(figure)
    return path
