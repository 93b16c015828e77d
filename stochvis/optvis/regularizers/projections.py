"""Image projections (r1) after each step, on centred pixels (0 = mid-grey): L2 decay, blur every k steps, small-norm and small-contribution clipping."""

from __future__ import annotations

import math

import torch

from stochvis.optvis.regularizers.base import (
    ImageProjection,
    StepContext,
    gaussian_blur,
)


class Decay(ImageProjection):
    """L2 decay r1(x) = (1 − θ)·x: pulls every pixel towards grey, penalising extreme values."""

    def __init__(self, theta: float = 0.01) -> None:
        self.theta = float(theta)

    def __call__(self, pixels: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return pixels * (1.0 - self.theta)


class BlurImage(ImageProjection):
    """Gaussian blur of the image with standard deviation ``sigma`` every ``every`` steps
    (Yosinski et al. 2015: θ_b_width, θ_b_every). Blurring costs little and removes high frequencies."""

    def __init__(self, sigma: float = 0.5, every: int = 4) -> None:
        self.sigma, self.every = float(sigma), int(every)

    def __call__(self, pixels: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        if self.sigma < 0.3 or self.every <= 0 or ctx.step % self.every:
            return pixels
        kernel = 2 * math.ceil(3 * self.sigma) + 1
        return gaussian_blur(pixels, kernel, self.sigma)


def _below_percentile(values: torch.Tensor, percentile: float) -> torch.Tensor:
    """Per-image mask (N, H, W) of positions whose value is below that image's percentile."""
    flat = values.flatten(1)
    threshold = torch.quantile(flat.float(), percentile / 100.0, dim=1, interpolation="lower")
    return values < threshold.view(-1, 1, 1).to(values)


class ClipSmallNorm(ImageProjection):
    """Set pixels whose RGB norm is below the ``percentile``-th percentile to zero (grey): the image
    keeps only what the unit needs instead of small contributions everywhere (Yosinski θ_n_pct)."""

    def __init__(self, percentile: float = 20.0) -> None:
        self.percentile = float(percentile)

    def __call__(self, pixels: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        if self.percentile <= 0:
            return pixels
        mask = _below_percentile(pixels.norm(dim=1), self.percentile)
        return pixels.masked_fill(mask.unsqueeze(1), 0.0)


class ClipSmallContribution(ImageProjection):
    """Set pixels with a small contribution |Σ_c x·∂a/∂x| (a first-order estimate of how much the
    activation would change if the pixel were set to zero) below the percentile to zero
    (Yosinski et al. 2015, θ_c_pct). Reads the gradient of the objective from ``ctx``."""

    def __init__(self, percentile: float = 50.0) -> None:
        self.percentile = float(percentile)

    def __call__(self, pixels: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        if self.percentile <= 0:
            return pixels
        if ctx.pixels is None or ctx.grad is None:
            raise RuntimeError("ClipSmallContribution needs the pixels and their gradient (pixel parameterisation)")
        contribution = (ctx.pixels * ctx.grad).sum(1).abs()
        mask = _below_percentile(contribution, self.percentile)
        return pixels.masked_fill(mask.unsqueeze(1), 0.0)
