"""The distribution of a class's channel distributions: a density over each image's quantile curves.

Why: VITAL (and :mod:`stochvis.stats.quantiles`) keeps one target per class — the *mean* of the class
images' curves, the Wasserstein barycentre of their channel distributions. Every image optimised towards it is
pulled to the same average: on composites of one kind of object pasted on many different photographs, that
average mixes the grass of one photo with the sky of another and the amount of object of all of them, so
every image becomes the same many-backdrop texture. The source documents' idea is to *sample* from the
class statistics, a new image per sample. This module models how the curves of one image vary around that
mean — jointly over every layer, so that a draw's stem and its deepest block belong to the same scene — and
draws a whole set of curves per image, each the target of one optimised image
(:func:`stochvis.methods.distribution_matching.match_distributions` takes per-image targets).

The model: the curves of every layer of an image, flattened and concatenated, are one vector; a Gaussian is
fitted to the class's vectors by principal components (scikit-learn's PCA; by default all N − 1 components, or as
many as the curves have values: exactly the images' sample covariance, so the layers' different scales need no
weighting; ``n_components`` keeps fewer, the main ways the images differ). A draw is mean + Σ_k z_k·√λ_k·v_k
with z ~ N(0, T²): a random combination of the class images' deviations from the mean, never one of them. Each drawn curve is then made a curve again — sorted along its levels and kept within
the channel's range over the class images (a ReLU6 channel cannot be asked for negative values) — the
rectifier-aware step of :mod:`stochvis.stats.sampling`'s draws. ``temperature`` 0 gives the mean curves.

How far should a draw be from the fitted images? :func:`novelty_temperature` answers from the fitted images alone:
the temperature at which draws are as far from their curves as an image of another group (another photo and
another object) is from the rest (:func:`curve_novelty` = 1). A Gaussian fitted to few images, the more so with
few components, draws nearer them than a new image would be, and images optimised towards such draws copy the
training scenes.

Files are safetensors with the weights' fingerprint and content hashes, refused for another model, as every
statistics file (:mod:`stochvis.stats.store`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from stochvis.models import WrappedModel
from stochvis.stats.moments import StatisticsFileError
from stochvis.stats.quantiles import image_curves
from stochvis.stats.store import read_tagged, write_tagged

KIND = "curve_density"
FORMAT_VERSION = 1


class CurveDensity:
    """A Gaussian over whole sets of per-image curves {layer: (C, Q)}, fitted by PCA (scikit-learn's
    conventions: hyperparameters here, fitted attributes end in ``_``).

    ``n_components``: principal components kept (default all, N − 1 for N images: the sample covariance);
    fewer keep only the main ways the class's images differ."""

    def __init__(self, n_components: int | None = None) -> None:
        self.n_components = n_components

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, curves: Mapping[str, torch.Tensor], *, model: WrappedModel | None = None) -> CurveDensity:
        """Fit to ``curves``, {layer: (N, C, Q)} one curve set per image (:func:`image_curves`), the same N
        images in every layer; ``model`` ties the density to the weights the curves came from."""
        if not isinstance(curves, Mapping) or not curves:
            raise ValueError("fit needs per-image curves by layer, {layer: (N, C, Q)}: "
                             "stochvis.stats.quantiles.image_curves(model, images, layers)")
        tensors = {str(layer): torch.as_tensor(value).detach().float().cpu() for layer, value in curves.items()}
        shapes = {layer: tuple(t.shape) for layer, t in tensors.items()}
        bad = {layer: shape for layer, shape in shapes.items() if len(shape) != 3 or 0 in shape[1:] or shape[2] < 2}
        if bad:
            raise ValueError(f"per-image curves must be (N, C, Q) with Q ≥ 2 per layer, got {bad}")
        counts = {shape[0] for shape in shapes.values()}
        if len(counts) > 1:
            raise ValueError(f"every layer must hold the curves of the same images; the counts differ: "
                             f"{ {layer: shape[0] for layer, shape in shapes.items()} }")
        (count,) = counts
        if count < 2:
            raise ValueError(f"a density of curves needs at least 2 images (their spread), got {count}")
        if not all(torch.isfinite(t).all() for t in tensors.values()):
            raise ValueError("the curves contain NaN or Inf: the images or the model are broken")
        flat = np.concatenate([t.flatten(1).double().numpy() for t in tensors.values()], axis=1)
        limit = min(count - 1, flat.shape[1])
        if self.n_components is not None and not (isinstance(self.n_components, int) and 1 <= self.n_components <= limit):
            raise ValueError(f"n_components={self.n_components!r}: give an integer from 1 to {limit} "
                             f"(images − 1, at most the curves' values) or None for all")
        pca = PCA(n_components=self.n_components or limit, svd_solver="full").fit(flat)
        self.layers_ = list(tensors)
        self.shapes_ = {layer: shape[1:] for layer, shape in shapes.items()}
        self.mean_ = torch.from_numpy(pca.mean_).double()
        self.components_ = torch.from_numpy(pca.components_).double()
        self.explained_variance_ = torch.from_numpy(pca.explained_variance_).double().clamp_min(0)
        self.low_ = {layer: t[:, :, 0].amin(0) for layer, t in tensors.items()}
        self.high_ = {layer: t[:, :, -1].amax(0) for layer, t in tensors.items()}
        self.count_ = count
        self.model_ = model.name if model is not None else None
        self.fingerprint_ = model.fingerprint if model is not None else None
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise NotFittedError("this CurveDensity is not fitted yet: call fit(curves) (or collect_curve_density)")

    @property
    def mean_curves(self) -> dict[str, torch.Tensor]:
        """{layer: (C, Q)}: the class images' mean curves (VITAL's target, ``ChannelQuantiles.curves``)."""
        self._check_fitted()
        return {layer: curves[0].float() for layer, curves in self._unflatten(self.mean_[None]).items()}

    # -- drawing ------------------------------------------------------------------------------
    def sample(self, n: int, *, seed: int = 0, temperature: float = 1.0) -> dict[str, torch.Tensor]:
        """``n`` drawn curve sets, {layer: (n, C, Q)} float32: each a target for one image. ``seed`` makes the
        draws reproducible; ``temperature`` scales the spread around the mean (0: the mean curves)."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer (curve sets to draw), got {n!r}")
        if not (isinstance(temperature, (int, float)) and np.isfinite(temperature) and temperature >= 0):
            raise ValueError(f"temperature must be a finite number ≥ 0 (1 draws from the fitted spread), got {temperature!r}")
        generator = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, len(self.explained_variance_), generator=generator, dtype=torch.float64)
        flat = self.mean_ + float(temperature) * (z * self.explained_variance_.sqrt()) @ self.components_
        drawn = self._unflatten(flat)
        return {layer: torch.minimum(torch.maximum(curves.sort(dim=-1).values, self.low_[layer][:, None]),
                                     self.high_[layer][:, None]).float()
                for layer, curves in drawn.items()}

    def _unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        out, start = {}, 0
        for layer in self.layers_:
            channels, levels = self.shapes_[layer]
            out[layer] = flat[:, start:start + channels * levels].reshape(len(flat), channels, levels)
            start += channels * levels
        return out

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted density (float64 tensors, the weights' fingerprint, content hashes), atomically."""
        self._check_fitted()
        if self.fingerprint_ is None:
            raise ValueError("this density names no model weights: fit it with model= (or collect_curve_density) "
                             "so that its file can be tied to them")
        tensors = {"mean": self.mean_, "components": self.components_, "explained_variance": self.explained_variance_,
                   **{f"{layer}/low": self.low_[layer].double() for layer in self.layers_},
                   **{f"{layer}/high": self.high_[layer].double() for layer in self.layers_}}
        meta = {"kind": KIND, "format_version": FORMAT_VERSION, "model": self.model_, "fingerprint": self.fingerprint_,
                "count": self.count_, "n_components": self.n_components,
                "layers": [[layer, list(self.shapes_[layer])] for layer in self.layers_]}
        return write_tagged(path, tensors, meta)

    @classmethod
    def load(cls, path: str | Path, model: WrappedModel | None = None, *,
             allow_other_model: bool = False) -> CurveDensity:
        """Read a file of :meth:`save`; with ``model``, refuse a density of other weights unless
        ``allow_other_model``."""
        meta, tensors = read_tagged(path, kind=KIND, format_version=FORMAT_VERSION, what="curve density",
                                    model=model, allow_other_model=allow_other_model)
        density = cls(meta.get("n_components"))
        try:
            density.layers_ = [layer for layer, _ in meta["layers"]]
            density.shapes_ = {layer: tuple(shape) for layer, shape in meta["layers"]}
            density.mean_, density.components_ = tensors["mean"], tensors["components"]
            density.explained_variance_ = tensors["explained_variance"]
            density.low_ = {layer: tensors[f"{layer}/low"] for layer in density.layers_}
            density.high_ = {layer: tensors[f"{layer}/high"] for layer in density.layers_}
            density.count_, density.model_, density.fingerprint_ = meta["count"], meta["model"], meta["fingerprint"]
        except (KeyError, TypeError, ValueError) as error:
            raise StatisticsFileError(f"{path} has inconsistent metadata ({type(error).__name__}: {error}); "
                                      "delete it and collect the curves again") from error
        if sum(c * q for c, q in density.shapes_.values()) != density.mean_.numel():
            raise StatisticsFileError(f"{path}: its layers' shapes do not add up to its mean's {density.mean_.numel()} "
                                      "values; delete it and collect the curves again")
        return density


def _flat(curves: Mapping[str, torch.Tensor], layers: Sequence[str]) -> torch.Tensor:
    return torch.cat([torch.as_tensor(curves[layer]).detach().double().cpu().flatten(1) for layer in layers], 1)


def _reference_distance(real: torch.Tensor, groups: Sequence[Sequence[Hashable]] | None) -> float:
    """How far a *new* real image's curves are from the others: each image's nearest neighbour among the
    images that share none of its group labels (another photo *and* another object, as a held-out image is),
    averaged."""
    distances = torch.cdist(real, real)
    count = len(real)
    if groups is None:
        unrelated = ~torch.eye(count, dtype=torch.bool)
    else:
        if len(groups) != count:
            raise ValueError(f"groups must give one tuple of labels per image: {len(groups)} for {count} images")
        labels = [tuple(g) if isinstance(g, (tuple, list)) else (g,) for g in groups]
        unrelated = torch.tensor([[not any(a == b for a, b in zip(mine, theirs)) for theirs in labels]
                                  for mine in labels])
    nearest = distances.masked_fill(~unrelated, float("inf")).amin(1)
    nearest = nearest[torch.isfinite(nearest)]
    if len(nearest) == 0 or float(nearest.mean()) <= 0:
        raise ValueError("no image has a neighbour that shares none of its group labels: give groups with more "
                         "than one photo and one object, or groups=None")
    return float(nearest.mean())


def curve_novelty(density: CurveDensity, curves: Mapping[str, torch.Tensor],
                  groups: Sequence[Sequence[Hashable]] | None = None, *, temperature: float = 1.0,
                  draws: int = 256, seed: int = 0) -> float:
    """The novelty of the density's draws in the curves themselves: their mean distance to the nearest of the
    fitted images' curves ``curves`` ({layer: (N, C, Q)}), as a multiple of a new real image's (the nearest
    among images sharing none of its ``groups`` labels, e.g. (photo, object) per image). The table's novelty
    asks the same of a judge's features; this one needs no optimised image, so it can be known before any."""
    real = _fitted_curves(density, curves)
    return _drawn_distance(density, real, temperature, draws, seed) / _reference_distance(real, groups)


def _fitted_curves(density: CurveDensity, curves: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """``curves`` flattened as the density's vectors, refused when they are not of its layers and sizes."""
    density._check_fitted()
    missing = [layer for layer in density.layers_ if layer not in curves]
    if missing:
        raise ValueError(f"curves lack the density's layers {missing}; it was fitted on {density.layers_}")
    real = _flat(curves, density.layers_)
    if real.shape[1] != density.mean_.numel():
        raise ValueError(f"curves of {real.shape[1]} values per image, the density's have {density.mean_.numel()}: "
                         "give the curves it was fitted on")
    return real


def _drawn_distance(density: CurveDensity, real: torch.Tensor, temperature: float, draws: int, seed: int) -> float:
    """The draws' mean distance to their nearest fitted image."""
    drawn = _flat(density.sample(draws, seed=seed, temperature=temperature), density.layers_)
    return float(torch.cdist(drawn, real).amin(1).mean())


def novelty_temperature(density: CurveDensity, curves: Mapping[str, torch.Tensor],
                        groups: Sequence[Sequence[Hashable]] | None = None, *, target: float = 1.0,
                        draws: int = 256, seed: int = 0, tolerance: float = 0.01) -> float:
    """The temperature at which the density's draws are as new as a new real image (:func:`curve_novelty` =
    ``target``), found by bisection on the fitted images alone.

    Why: a Gaussian fitted to N images spans only their hull, and keeping fewer components shrinks it further —
    its draws at temperature 1 lie nearer the fitted images than an image of another photo and object does
    (0.75 of the distance, measured on the natural world's composites). Images optimised towards such targets
    copy the training scenes. Realism measured against training images cannot see this (it rewards staying
    near them), so the spread is calibrated here, before any image is made."""
    if not (isinstance(target, (int, float)) and target > 0):
        raise ValueError(f"target must be a positive multiple of a new real image's novelty, got {target!r}")

    real = _fitted_curves(density, curves)
    reference = _reference_distance(real, groups)  # once: only the draws change with the temperature

    def novelty(temperature: float) -> float:
        return _drawn_distance(density, real, temperature, draws, seed) / reference

    low, high = 0.0, 1.0
    while novelty(high) < target:
        low, high = high, 2 * high
        if high > 64:
            raise ValueError(f"no temperature up to 64 makes the draws as new as a real image (target {target}): "
                             "the density's draws do not spread (one image, or every image alike)")
    while high - low > tolerance:
        middle = (low + high) / 2
        low, high = (middle, high) if novelty(middle) < target else (low, middle)
    return round(high, 3)


def collect_curve_density(model: WrappedModel, images, layers: str | Sequence[str], *, quantiles: int = 32,
                          n_components: int | None = None, batch_size: int = 16) -> CurveDensity:
    """Each image's curves at ``layers`` (:func:`~stochvis.stats.quantiles.image_curves`), and the density
    of them, tied to ``model``'s weights."""
    curves = image_curves(model, images, layers, quantiles=quantiles, batch_size=batch_size)
    return CurveDensity(n_components).fit(curves, model=model)


__all__ = ["CurveDensity", "collect_curve_density", "curve_novelty", "novelty_temperature"]
