"""Penalties subtracted from the objective, i.e. image priors: total variation, Lp, the pixel-histogram prior."""

from __future__ import annotations

import torch

from stochvis.optvis.distribution_matching import as_curves, channel_curves
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


# Luminance, red − green, yellow − blue: the opponent axes of Hasler & Süsstrunk's colourfulness, in which a
# grey image has flat (zero) second and third channels whatever its brightness.
OPPONENT = torch.tensor([[1 / 3, 1 / 3, 1 / 3], [1.0, -1.0, 0.0], [0.5, 0.5, -1.0]])


def opponent_colours(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1] → (N, 3, H, W) luminance, red − green, yellow − blue (:data:`OPPONENT`)."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"opponent colours need RGB images (N, 3, H, W), got shape {tuple(images.shape)}")
    return torch.einsum("oc,nchw->nohw", OPPONENT.to(images), images)


class ColourQuantiles(Penalty):
    """weight · mean over the three opponent channels (:func:`opponent_colours`) of the squared 1-D Wasserstein
    distance between the image's values in the channel and a target quantile curve, each channel in units of
    its target's own spread (an image flat at the target's mean is at 1 in every channel, so colour weighs as
    much as brightness). ``target``: (3, Q) for every image, or (N, 3, Q) one per image — e.g. the mean sorted
    opponent values of real class images (:func:`colour_curves`).

    Why: the pixels are the shallowest statistics of a class and no network's. A network's channel
    distributions pin colour only as far as its channels read it: matching every block of EfficientNet-Lite0
    left natural-world images at 0.11 mean colour range (max − min over RGB) where the training composites have
    0.29, and a judge's deep features of grey real composites are as weak as those images' (VGG16 conv5_3 norm
    62 against 89 in colour). :class:`PixelQuantiles` pools the channels, so it fixes brightness, not colour."""

    def __init__(self, weight: float, target: torch.Tensor) -> None:
        self.weight = float(weight)
        target = as_curves(target, "ColourQuantiles target")
        if target.shape[-2] != 3:
            raise ValueError(f"ColourQuantiles target must hold 3 opponent channels (3, Q) or (N, 3, Q), got shape "
                             f"{tuple(target.shape)}")
        spread = (target - target.mean(-1, keepdim=True)).pow(2).mean(-1)
        if (spread == 0).any():
            raise ValueError("a ColourQuantiles target channel is constant: its spread, the distance's unit, is zero")
        self._target, self._spread = target, spread

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        target = self._target.to(images)
        if target.dim() == 3 and target.shape[0] != images.shape[0]:
            raise ValueError(f"ColourQuantiles: {target.shape[0]} per-image targets for a batch of {images.shape[0]} "
                             "images: give (3, Q) for all, or exactly one (3, Q) per image")
        curves = channel_curves(opponent_colours(images), target.shape[-1])
        return self.weight * ((curves - target).pow(2).mean(-1) / self._spread.to(images)).mean(-1)

    @property
    def name(self) -> str:
        return f"ColourQuantiles(weight={self.weight}, quantiles={self._target.shape[-1]})"


def colour_curves(images: torch.Tensor, quantiles: int = 32) -> torch.Tensor:
    """(3, Q): the mean over ``images`` of each opponent channel's sorted values at ``quantiles`` levels, the
    target of :class:`ColourQuantiles`."""
    return channel_curves(opponent_colours(torch.as_tensor(images).float()), quantiles).mean(0)
