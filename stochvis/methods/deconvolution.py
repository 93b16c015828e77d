"""Stochastic deconvolution: class statistics → sampled activations → images that produce them.

Why a sampling method: activation maximisation returns one over-saturated favourite per class;
drawing activations from the class's own statistics and inverting each gives n different images the
network reads as the class. Which statistics matter: pooled channel means say *which* features are
present, not where (grey textures); whole maps (``"pool2/map"``) conditioned on the code above
(``"pool2/map+fc1/pooled"``) give shapes. See :mod:`stochvis.methods.chain` for the backward chain
down to the image.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from stochvis.features import statistics_key
from stochvis.methods.inversion import InversionResult, invert
from stochvis.models import WrappedModel
from stochvis.stats import sampling
from stochvis.stats.store import Statistics, check_finite, check_model


def _clip(values: torch.Tensor, stats: Statistics, key: str) -> torch.Tensor:
    """Keep each unit within the range observed on the class's images (e.g. ≥ 0 after a ReLU)."""
    feat = stats[key]
    return torch.maximum(torch.minimum(values, feat.maximum.to(values)), feat.minimum.to(values))


def sample_targets(stats: Statistics, feature_key: str | Sequence[str], n: int, *, seed: int = 0,
                   clip: bool = True, density: str | Sequence[str] = "gaussian", n_components: int = 32,
                   rectify: bool | str = False, temperature: float = 1.0, **density_options) -> dict[str, torch.Tensor]:
    """n draws per feature from the class model, clipped to the observed range.

    One feature → independent draws. Several (deep → shallow) → the backward chain: the first is
    drawn, each next one given the one above (needs the joint statistics of neighbours).
    ``density``: ``"gaussian"`` (dense, OAS) or ``"lowrank"`` (factor analysis with
    ``n_components``; conditions whole maps through Woodbury), or one per layer in a chain;
    ``rectify``: False, ``"clip"`` or ``"sparsity"`` (:func:`stochvis.stats.sampling.rectify_draws`);
    ``temperature``: each draw's spread around its mean ×T (:func:`stochvis.stats.sampling.check_temperature`).
    """
    _check_count(n)
    specs = [feature_key] if isinstance(feature_key, str) else list(feature_key)
    keys = [statistics_key(s) for s in specs]
    for key in keys:
        check_finite(stats, key)
        if stats[key].count < 2:
            raise ValueError(f"statistics of class {stats.class_name!r}, feature {key!r} come from {stats[key].count} "
                             "image(s): every draw would equal the mean; collect at least 2 (many more than the "
                             "feature's dimension for a faithful covariance)")
    if len(keys) == 1:
        first = density if isinstance(density, str) else density[0]
        drawn = {keys[0]: sampling.draw(stats, keys[0], n, seed=seed, density=first, n_components=n_components,
                                        rectify=rectify, temperature=temperature, **density_options)}
    else:
        for upper, lower in zip(keys, keys[1:]):
            check_finite(stats, f"{lower}+{upper}")
        chain = sampling.conditional_chain(stats, keys, n, seed=seed, density=density, n_components=n_components,
                                           rectify=rectify, temperature=temperature, **density_options)
        drawn = {key: chain[key] for key in keys}
    out = {}
    for key, values in drawn.items():
        values = values.float()
        out[key] = _clip(values, stats, key) if clip else values
    return out


def stochastic_deconvolution(
    model: WrappedModel,
    stats: Statistics,
    layers: str | Sequence[str],
    n: int = 4,
    *,
    seed: int = 0,
    clip: bool = True,
    weights: Sequence[float] | None = None,
    density: str | Sequence[str] = "gaussian",
    n_components: int = 32,
    rectify: bool | str = False,
    allow_other_model: bool = False,
    **invert_options,
) -> InversionResult:
    """Class statistics → n activation samples → n reconstructions (one image per sample).

    ``layers``: one feature (``"conv5_3"`` = its pooled vector in the statistics, or
    ``"pool5/map"``), or several from deep to shallow for the backward layer-by-layer variant
    (sample the deepest, then each shallower given the one above; invert against all of them).
    Pooled targets give texture-like images. ``density``/``n_components``/``rectify`` choose the
    class model (:func:`sample_targets`). Options go to :func:`invert` (for Fashion-like data pass
    ``**calibrated_image_priors(real_images).invert_options()`` rather than the VGG16 defaults).
    Statistics of another model (weight fingerprint) are refused unless ``allow_other_model``.
    """
    check_model(stats, model, allow_other_model=allow_other_model)
    targets = sample_targets(stats, layers, n, seed=seed, clip=clip, density=density, n_components=n_components,
                             rectify=rectify)
    return invert(model, targets, stats=stats, weights=weights, seed=seed, allow_other_model=allow_other_model,
                  **invert_options)


def _check_count(n) -> None:
    """n draws: a positive integer (a float or zero would silently mean something else)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n is the number of samples: a positive integer, got {n!r}")
