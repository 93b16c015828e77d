"""Penalties subtracted from the objective, i.e. image priors: total variation, Lp, the pixel-histogram prior."""

from __future__ import annotations

import torch

from stochvis.optvis.regularizers.base import (
    Penalty,
)


class TotalVariation(Penalty):
    """weight · Σ over pixels of (|Δx|² + |Δy|²)^(β/2) (Mahendran & Vedaldi 2015's TV^β; β=1 is the
    isotropic total variation). Penalises edges and noise, so it favours piecewise-smooth images.
    A sum, like the papers' formulas, so a pixel's share of the gradient does not depend on image size."""

    def __init__(self, weight: float = 0.01, beta: float = 1.0) -> None:
        self.weight, self.beta = float(weight), float(beta)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        dx = images[..., :-1, 1:] - images[..., :-1, :-1]
        dy = images[..., 1:, :-1] - images[..., :-1, :-1]
        squared = (dx * dx + dy * dy).sum(1)
        magnitude = squared.clamp_min(1e-12).pow(self.beta / 2) if self.beta != 2 else squared
        return self.weight * magnitude.flatten(1).sum(1)


class Lp(Penalty):
    """weight · Σ |x − 0.5|^p over the centred image; p=2 is Simonyan et al.'s λ‖x‖² (their x is the
    mean-subtracted image; mid-grey stands in for the mean here)."""

    def __init__(self, weight: float = 0.01, p: float = 2.0) -> None:
        self.weight, self.p = float(weight), float(p)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self.weight * (images - 0.5).abs().pow(self.p).flatten(1).sum(1)


class PixelQuantiles(Penalty):
    """weight · mean over values of (sorted image − ``target``)²: the squared 1-D Wasserstein distance
    between an image's pixel values (channels together) and a reference distribution, given as its
    quantile curve (``target``: C·H·W ascending values, e.g. the mean sorted real image).

    Why: feature inversion leaves the overall brightness to the start image and the priors (the
    Fashion subject's maps barely pin it: a real image's own maps invert to mean pixel 0.21 where the
    image has 0.31), and a dark start then gives dim garments; matching the class's pixel histogram
    fixes that without saying *where* the bright pixels go."""

    def __init__(self, weight: float, target: torch.Tensor) -> None:
        self.weight = float(weight)
        target = torch.as_tensor(target, dtype=torch.float32).flatten()
        if len(target) < 2 or not torch.isfinite(target).all() or (target.diff() < 0).any():
            raise ValueError(f"target must be an ascending quantile curve of finite values (C·H·W of them), got "
                             f"{len(target)} values")
        self._target = target

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        values = images.flatten(1)
        if values.shape[1] != len(self._target):
            raise ValueError(f"PixelQuantiles: images of {values.shape[1]} values (C·H·W of {tuple(images.shape[1:])}), "
                             f"but the reference quantile curve has {len(self._target)}: use images of the reference's size")
        return self.weight * (values.sort(dim=1).values - self._target.to(values)).pow(2).mean(1)

    @property
    def name(self) -> str:
        return f"PixelQuantiles(weight={self.weight}, values={len(self._target)})"
