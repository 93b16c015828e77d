"""The Tux Paint world: VGG16 class statistics of photo cut-outs pasted on backgrounds.

Why one home: notebooks 03, 04 and 05 study the same classes with the same images, and a cached
statistics file is found only when the images and settings match exactly. Built here once, the
notebooks cannot drift apart (04 used to copy 03's settings by hand so that 03's cache was found).

Two sets of statistics: :func:`class_statistics` (pooled vectors and a projected pool5 map, notebooks
03–04) and :func:`chain_statistics` (the backward chain conv5_3 → conv4_3 → conv3_3 on coarse grids,
≥ 500 composites per class, with this world's calibrated image priors; notebook 05).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import ImageOps

from stochvis import data
from stochvis.assets import content_sha256
from stochvis.features import feature_key
from stochvis.methods.chain import chain_joints
from stochvis.methods.inversion import CalibratedPriors, calibrated_image_priors
from stochvis.models import WrappedModel
from stochvis.stats.collection import collect_classes_cached
from stochvis.stats.store import Statistics

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


# -- the backward chain on coarse grids ------------------------------------------------------------------------

# Where things are, coarsely: conv5_3 and conv4_3 average-pooled to 2×2 (512·4 = 2048 values each), conv3_3
# to 4×4 (256·16 = 4096). The joints of neighbours are 4096 and 6144 values: dense Gaussian conditioning
# stays a few seconds per class on 2 cores (O(d³)), and a 64-px composite's maps (conv3_3 16×16, conv4_3
# 8×8, conv5_3 4×4) are pooled by whole blocks. The price is disk: float64 co-moments of the joints and their
# marginals make 0.77 GB per class in the cache (conv3_3 at 2×2 would make 0.29 GB, with a blurrier shape).
CHAIN_GRIDS = {"conv5_3": 2, "conv4_3": 2, "conv3_3": 4}
# Pooled vectors collected alongside, in the same forward pass: the AM prior and the class evidence at
# conv2_2, a layer the chain never fits.
CHAIN_POOLED = ("conv2_2", "conv3_3", "conv4_3", "conv5_3")


def chain_keys(grids: dict[str, int] | None = None) -> tuple[str, ...]:
    """The chain's feature keys, deep → shallow, in the order ``grids`` lists the layers
    (default :data:`CHAIN_GRIDS`: ``conv5_3/grid2``, ``conv4_3/grid2``, ``conv3_3/grid4``)."""
    grids = CHAIN_GRIDS if grids is None else grids
    return tuple(feature_key(layer, "grid", g) for layer, g in grids.items())


def _flipped(images: data.ImageSet, fraction: float, seed: int) -> data.ImageSet:
    """The same set with a seeded ``fraction`` of its images mirrored left–right (data.tuxpaint draws
    background, position and scale, but no flip)."""
    rng = random.Random(seed)
    mirrored = [ImageOps.mirror(image) if rng.random() < fraction else image for image in images.images]
    return data.ImageSet(mirrored, list(images.labels), list(images.classes), images.name, list(images.sources))


def _concat(parts: Sequence[data.ImageSet], classes: Sequence[str], name: str) -> data.ImageSet:
    """One labelled set from one single-class set per class (label = position in ``classes``)."""
    return data.ImageSet([image for part in parts for image in part.images],
                         [label for label, part in enumerate(parts) for _ in part.images], list(classes), name,
                         [source for part in parts for source in part.sources])


def composites(classes: Sequence[str] = CLASSES, *, per_class: int = 500, image_size: int = 64, seed: int = 0,
               held_out_every: int = 4, flip: float = 0.5) -> tuple[data.ImageSet, data.ImageSet]:
    """(train, held-out) Tux Paint composites with at least ``per_class`` training images per class.

    Why per class: the categories have 24–35 cut-outs, so one ``per_image`` for all would give the
    smallest class too few or the largest far too many. Each class's cut-outs are split by source first
    (every ``held_out_every``-th cut-out held out, so no held-out object is ever in training), then each
    training cut-out is rendered ⌈per_class / cut-outs⌉ times on random backgrounds, positions and
    scales (:func:`stochvis.data.tuxpaint`), a seeded ``flip`` fraction mirrored.
    """
    if per_class < 1:
        raise ValueError(f"per_class is the number of training composites per class: ≥ 1, got {per_class!r}")
    available = data.tuxpaint_categories()
    unknown = [c for c in classes if c not in available]
    if unknown:
        raise KeyError(f"no Tux Paint cut-outs for {unknown}; installed categories: {', '.join(available)}")
    trains, helds = [], []
    for label, category in enumerate(classes):
        training_sources = available[category] - available[category] // held_out_every
        if training_sources < 1:
            raise ValueError(f"{category!r} has {available[category]} cut-outs: none left for training with "
                             f"held_out_every={held_out_every}")
        renders = data.tuxpaint([category], per_image=math.ceil(per_class / training_sources), size=image_size,
                                seed=seed + 1000 * label)
        train, held = data.split_by_source(renders, held_out_every)
        if len(train) < per_class:
            raise ValueError(f"{category!r}: only {len(train)} training composites (unreadable cut-outs?), "
                             f"{per_class} asked for")
        trains.append(_flipped(train, flip, seed + 1000 * label + 1))
        helds.append(_flipped(held, flip, seed + 1000 * label + 2))
    tag = f"tuxpaint-{'+'.join(classes)}-{image_size}px-n{per_class}-seed{seed}-flip{flip:g}"
    return _concat(trains, classes, f"{tag}/train"), _concat(helds, classes, f"{tag}/held-out")


def image_priors(images: data.ImageSet | torch.Tensor, image_size: int | None = None, *, tv: float = 0.3,
                 norm: float = 0.1, init: str = "mean_image", centre: str = "mean_image") -> CalibratedPriors:
    """This world's image priors, calibrated on its own composites (:func:`calibrated_image_priors`).

    Why these choices: the backgrounds are random smooth colour fields, so no border colour is "the"
    background; the mean composite (a soft colour blob, brighter where objects tend to sit) is the
    neutral start and the centre of the α-norm, and the TV and α-norm scales are the medians over real
    composites, so a typical composite costs ``tv`` and ``norm``.
    """
    if isinstance(images, data.ImageSet):
        if image_size is None:
            raise ValueError("give image_size to calibrate on an ImageSet (the size the chain runs at)")
        images = images.tensors((image_size, image_size))[0]
    return calibrated_image_priors(images, tv=tv, norm=norm, init=init, centre=centre)


@dataclass
class ChainWorld:
    """The grid statistics of the chain per class, the composites they came from, and the world's
    calibrated image priors (calibrated on the training composites)."""

    per_class: dict[str, Statistics]
    train: data.ImageSet
    held_out: data.ImageSet
    priors: CalibratedPriors
    layers: tuple[str, ...]
    image_size: int


def chain_statistics(model: WrappedModel, *, image_size: int = 64, per_class: int = 500,
                     grids: dict[str, int] | None = None, pooled: Sequence[str] = CHAIN_POOLED,
                     classes: Sequence[str] = CLASSES, directory: str | Path | None = None, seed: int = 0,
                     batch_size: int = 32, split: tuple[data.ImageSet, data.ImageSet] | None = None,
                     **prior_options) -> ChainWorld:
    """Class statistics for the backward chain conv5_3 → conv4_3 → conv3_3 on coarse grids.

    ``grids`` {layer: g}, deep → shallow (default :data:`CHAIN_GRIDS`): each layer's map average-pooled
    to g×g, with the joint of every neighbouring pair (what :func:`stochvis.stats.sampling.conditional_chain`
    conditions on); ``pooled`` layers' channel means come with them from the same forward pass. Images:
    :func:`composites` (``per_class`` training composites per class, held-out cut-outs never in training).
    Cached by model, images and options under ``directory`` (default ``STOCHVIS_HOME/statistics``).
    ``prior_options`` go to :func:`image_priors`. ``split``: other (train, held-out) composites, e.g. the
    natural world's (:func:`stochvis.worlds.natural.split`, objects on photographs) — the chain and its
    priors are the same; ``classes`` and ``per_class`` are then the split's.
    """
    grids = dict(CHAIN_GRIDS if grids is None else grids)
    keys = chain_keys(grids)
    if split is None:
        train, held_out = composites(classes, per_class=per_class, image_size=image_size, seed=seed)
    else:
        train, held_out = split
    images = train.tensors((image_size, image_size))[0]  # rendered once: the cache key and the priors
    if split is None:
        world, source = "tuxpaint", f"{train.name} ({len(train)} images)"  # the name holds every option
    else:  # another world's names need not: the cache is keyed by the images themselves
        world = train.name.partition("/")[0]
        source = f"{train.name} ({len(train)} images, sha256 {content_sha256([images])[:16]})"
    per = collect_classes_cached(
        model, train, list(dict.fromkeys([*pooled, *grids])), name=f"{model.name}-{world}-chain-{image_size}px",
        directory=directory, pooled=list(pooled), maps=list(keys), joint=chain_joints(keys), image_size=image_size,
        batch_size=batch_size, source_name=source, progress=False)
    return ChainWorld(per, train, held_out, image_priors(images, **prior_options), keys, image_size)
