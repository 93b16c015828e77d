"""The Tux Paint world: VGG16 class statistics of photo cut-outs pasted on backgrounds.

Why one home: notebooks 03, 04 and 05 study the same classes with the same images, and a cached
statistics file is found only when the images and settings match exactly. Built here once, the
notebooks cannot drift apart (04 used to copy 03's settings by hand so that 03's cache was found).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stochvis import data
from stochvis.models import WrappedModel
from stochvis.stats.collection import collect_classes_cached

CLASSES = ("birds", "flowers", "fruit")
LAYERS = ("conv3_3", "conv4_3", "conv5_3")


@dataclass
class ClassStatistics:
    """Per-class statistics of the training composites, and the two image sets they came from."""

    per_class: dict
    train: data.ImageSet
    held_out: data.ImageSet


def class_statistics(model: WrappedModel, *, image_size: int, per_image: int, layers: Sequence[str] = LAYERS,
                     classes: Sequence[str] = CLASSES, directory: str | Path | None = None, seed: int = 0,
                     maps: Sequence[str] = ("pool5",), projection_dim: int = 256) -> ClassStatistics:
    """Tux Paint composites of ``classes`` (``per_image`` renders of each cut-out at ``image_size``), split
    by source object (renders of one photo never on both sides), and the training side's class statistics
    at ``layers`` (pooled, joint consecutive) plus the randomly projected ``maps``, cached by model,
    images and options."""
    images = data.tuxpaint(list(classes), per_image=per_image, size=image_size, seed=seed)
    train, held_out = data.split_by_source(images)
    per_class = collect_classes_cached(
        model, train, list(layers), name=f"{model.name}-tuxpaint-{image_size}px-x{per_image}", directory=directory,
        maps=list(maps), projection_dim=projection_dim, joint="consecutive", image_size=image_size, batch_size=16)
    return ClassStatistics(per_class, train, held_out)
