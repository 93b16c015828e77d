"""Sampling activations from class statistics, and scoring how far images are from them.

Why: the stochastic-deconvolution idea is to draw an activation of a deep layer from the class
distribution, then draw the shallower layer *given* it (Gaussian conditioning on the joint
statistics of layers k and k+1), down towards the image; and, during activation maximisation, to
find the shallow units whose activations are outliers under the class model so the optimiser can
push them back. The maths lives in :mod:`stochvis.statistics`; this module strings it together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from stochvis.models import WrappedModel
from stochvis.statistics import GaussianDensity, Statistics, joint_key


def _feature(name: str) -> str:
    return name if "/" in name or "+" in name else f"{name}/pooled"


def draw(stats: Statistics, feature: str, n: int, *, seed: int = 0, kind: str = "gaussian", **density_options) -> torch.Tensor:
    """``n`` activation vectors of ``feature`` drawn from the class model (float64, (n, d))."""
    density = stats.density(_feature(feature), kind=kind, **density_options)
    return torch.from_numpy(density.sample(n, seed=seed))


def conditional_chain(
    stats: Statistics,
    layers: Sequence[str],
    n: int = 1,
    *,
    seed: int = 0,
    top: torch.Tensor | np.ndarray | None = None,
    shrinkage: str | float | None = "oas",
    means_only: bool = False,
) -> dict[str, torch.Tensor]:
    """Draw the deepest layer, then each shallower one given the one above it.

    ``layers`` go from deep to shallow (``["conv5_3", "conv4_3", "conv3_3"]``); the statistics must
    hold the joint feature of every neighbouring pair (collect with ``joint="consecutive"``).
    ``top`` fixes the deepest layer's values (n rows) instead of drawing them. ``means_only`` takes
    conditional means instead of draws (a deterministic chain, to measure what the joints predict).
    Returns {layer: (n, d_layer)} float64 tensors.
    """
    if len(layers) < 1:
        raise ValueError("conditional_chain needs at least one layer")
    features = [_feature(layer) for layer in layers]
    if top is None:
        current = stats.density(features[0], shrinkage=shrinkage).sample(n, seed=seed)
    else:
        current = np.asarray(torch.as_tensor(top, dtype=torch.float64).reshape(n, -1))
    out = {layers[0]: torch.from_numpy(current)}
    for step, (upper, lower) in enumerate(zip(features, features[1:]), start=1):
        key = joint_key(lower, upper)
        if key not in stats.features:
            raise KeyError(f"conditional_chain needs the joint statistics {key!r}; available: {', '.join(stats.keys())} "
                           "(collect with joint='consecutive')")
        joint = stats.density(key, shrinkage=shrinkage)
        if means_only:
            current = joint.conditional_mean(current, given=upper)
        else:
            current = joint.conditional_sample(current, given=upper, seed=seed + step)
        out[layers[step]] = torch.from_numpy(current)
    return out


@dataclass
class OutlierScores:
    """How unlike the class one feature of some images is."""

    feature: str
    log_likelihood: np.ndarray  # (n,) under the class Gaussian
    mahalanobis: np.ndarray  # (n,)
    zscores: np.ndarray  # (n, d) per unit, (x − mean) / std
    dim: int

    @property
    def mahalanobis_per_dim(self) -> np.ndarray:
        """Mahalanobis / √d: about 1 for a typical member of the class, whatever the layer's width."""
        return self.mahalanobis / np.sqrt(self.dim)

    def units(self, threshold: float = 3.0, image: int = 0, top: int | None = None) -> np.ndarray:
        """Units of one image more than ``threshold`` std *above* the class mean, most outlying first:
        the ones an optimiser should decrease."""
        z = self.zscores[image]
        order = np.argsort(-z)
        picked = order[z[order] > threshold]
        return picked[:top] if top is not None else picked


def outlier_scores(
    stats: Statistics,
    model: WrappedModel,
    images: torch.Tensor,
    features: Sequence[str] | None = None,
    *,
    shrinkage: str | float | None = "oas",
) -> dict[str, OutlierScores]:
    """Per-feature outlier scores of ``images`` under the class statistics (default: every
    single-layer feature, no joints)."""
    keys = [_feature(f) for f in features] if features is not None else [k for k in stats.keys() if "+" not in k]
    vectors = stats.vectors(model, images)
    return {key: score_vectors(stats.density(key, shrinkage=shrinkage), vectors[key], key) for key in keys}


def score_vectors(density: GaussianDensity, vectors, feature: str = "") -> OutlierScores:
    """Outlier scores of given vectors under a fitted density."""
    return OutlierScores(feature, density.score_samples(vectors), density.mahalanobis(vectors),
                         density.zscores(vectors), density.n_features_in_)
