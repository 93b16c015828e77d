"""The backward chain through whole maps: fix layer k+1, sample layer k given it, on to the image.

Why: the source's stochastic deconvolution draws the deepest code of a class, then each shallower
layer *given* the one above (Gaussian conditioning on the joint statistics of neighbouring layers),
and finally finds the image whose activations match all the drawn layers at once. Whole maps keep
where things are, so the image gets a silhouette; matching several layers jointly lets the deep
code decide the class and the shallow maps decide the shape. The layers are the caller's, deep → shallow
(e.g. a small Fashion CNN's ``["fc1", "pool2/map", "pool1/map"]``, 256 → 3136 → 6272 values, with the joint
statistics ``"pool2/map+fc1/pooled"`` and ``"pool1/map+pool2/map"``, see :func:`chain_joints`); for maps this large use
``density="lowrank"`` (conditioning by Woodbury, O(d k²)) or the dense Gaussian (O(d³), seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from stochvis.features import key_layer, statistics_key
from stochvis.methods.deconvolution import sample_targets
from stochvis.methods.inversion import CalibratedPriors, InversionResult, invert
from stochvis.models import WrappedModel
from stochvis.stats import sampling
from stochvis.stats.store import Statistics


def chain_joints(layers: Sequence[str]) -> list[tuple[str, str]]:
    """The joint features a chain needs, as ``joint=`` pairs for :func:`stochvis.stats.collect`
    (shallower first: ``("pool2/map", "fc1/pooled")``)."""
    keys = [statistics_key(layer) for layer in layers]
    return [(lower, upper) for upper, lower in zip(keys, keys[1:])]


def sample_chain(
    stats: Statistics,
    layers: Sequence[str],
    n: int = 8,
    *,
    seed: int = 0,
    density: str | Sequence[str] = "gaussian",
    n_components: int = 64,
    rectify: bool | str = "sparsity",
    clip: bool = True,
    temperature: float = 1.0,
) -> dict[str, torch.Tensor]:
    """n draws of every layer of the chain (deep → shallow), each given the one above: {key: (n, d)};
    ``temperature`` > 1 widens every draw around its conditional mean."""
    return sample_targets(stats, list(layers), n, seed=seed, clip=clip, density=density, n_components=n_components,
                          rectify=rectify, temperature=temperature)


def typicality(stats: Statistics, targets: Mapping[str, torch.Tensor], *, shrinkage: str | float | None = "oas"
               ) -> dict[str, torch.Tensor]:
    """Mahalanobis distance / √d of each drawn vector under the class Gaussian of its layer:
    about 1 for a typical member of the class whatever the layer's width; {key: (n,)}."""
    out = {}
    for key, values in targets.items():
        scores = sampling.score_vectors(stats.density(statistics_key(key), shrinkage=shrinkage),
                                        np.asarray(values, dtype=np.float64), key)
        out[statistics_key(key)] = torch.from_numpy(scores.mahalanobis_per_dim)
    return out


@dataclass
class ChainResult:
    """Images (one per chain), the drawn targets per layer, the inversion, and how typical each
    drawn layer is under the class model (:func:`typicality`)."""

    images: torch.Tensor
    targets: dict[str, torch.Tensor]
    inversion: InversionResult
    typicality: dict[str, torch.Tensor]

    @property
    def errors(self) -> dict[str, torch.Tensor]:
        return self.inversion.errors


def reconstruct_chain(
    model: WrappedModel,
    stats: Statistics,
    layers: Sequence[str],
    n: int = 8,
    *,
    weights: Sequence[float] | Mapping[str, float] | None = None,
    priors: CalibratedPriors | None = None,
    targets: Mapping[str, torch.Tensor] | None = None,
    seed: int = 0,
    density: str | Sequence[str] = "gaussian",
    n_components: int = 64,
    rectify: bool | str = "sparsity",
    clip: bool = True,
    temperature: float = 1.0,
    steps: int = 300,
    lr: float = 0.05,
    measure_typicality: bool = True,
    **invert_options,
) -> ChainResult:
    """Sample the chain (or take ``targets``) and invert against all its layers jointly.

    ``weights``: one per layer (or {key: weight}); each layer's term is its normalised error, so
    1 for every layer weighs them equally. ``priors``: calibrated image priors and start image
    (:func:`~stochvis.methods.inversion.calibrated_image_priors`); without them, ``invert``'s
    defaults (or ``regularizers=`` / ``param=`` in ``invert_options``) apply. ``measure_typicality``:
    score each drawn layer under its class Gaussian (a diagnostic; a few seconds for maps of thousands of units).
    ``temperature``: :func:`sample_chain`'s (> 1 makes the images more varied: the inversion keeps only
    the part of a draw an image can realise).
    """
    keys = [statistics_key(layer) for layer in layers]
    if targets is None:
        targets = sample_chain(stats, keys, n, seed=seed, density=density, n_components=n_components,
                               rectify=rectify, clip=clip, temperature=temperature)
    else:
        targets = {statistics_key(k): torch.as_tensor(v).float() for k, v in targets.items()}
        missing = [k for k in keys if k not in targets]
        if missing:
            raise KeyError(f"targets lack {missing}; given: {list(targets)}")
    if isinstance(weights, Mapping):
        weights = [float(weights.get(k, weights.get(key_layer(k), 1.0))) for k in keys]
    options = dict(priors.invert_options()) if priors is not None else {}
    options.update(invert_options)
    inversion = invert(model, {k: targets[k] for k in keys}, stats=stats, weights=weights, seed=seed, steps=steps,
                       lr=lr, **options)
    return ChainResult(inversion.images, {k: targets[k] for k in keys}, inversion,
                       typicality(stats, targets) if measure_typicality else {})
