"""The pixels' spectrum as a class statistic: each opponent colour channel's mean amplitude in rings of radial
frequency (:func:`ring_amplitudes`), and a penalty that pulls an image's rings towards a class's
(:class:`SpectrumMatch`).

Why: how fast a class's photographs lose energy towards fine detail is one of their shallowest statistics, and
no network's channel distributions pin it. Matched at every block of EfficientNet-Lite0, the natural world's
images fall as amplitude ∝ f^-1.1 with twice the real composites' share of amplitude above half of Nyquist,
while the composites fall as f^-1.35 (and VITAL's images, matched at five layers, as f^-1.3). A slower Fourier
parameterisation (a larger decay) only slows fine detail's growth, and the matching then pushes the coarse
coefficients until colours clip (``scripts/try_smoother_backdrop.py``); a target for every ring constrains both
ends. Texture synthesis met the same gap with a spectrum constraint beside a network's statistics (Liu, Gousseau &
Xia 2016, "Texture synthesis through convolutional neural networks and spectrum constraints").
"""

from __future__ import annotations

import torch

from stochvis.optvis.regularizers.base import Penalty
from stochvis.optvis.regularizers.penalties import opponent_colours


def _ring_weights(height: int, width: int) -> torch.Tensor:
    """(R, H·(W//2+1)): row r averages the rfft2 coefficients whose radial frequency rounds to ring r + 1 (in
    steps of 1/min(H, W) cycles per pixel), up to the shorter side's Nyquist; DC and the corners beyond are left
    out."""
    fy = torch.fft.fftfreq(height, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(width, dtype=torch.float64)[None, :]
    rings = torch.round(torch.sqrt(fx * fx + fy * fy) * min(height, width)).long().flatten()
    count = min(height, width) // 2
    weights = (rings[None, :] == torch.arange(1, count + 1)[:, None]).double()
    return (weights / weights.sum(1, keepdim=True)).float()


def ring_amplitudes(images: torch.Tensor) -> torch.Tensor:
    """(N, 3, R): each image's mean Fourier amplitude (orthonormal rfft2) of each opponent channel (luminance,
    red − green, yellow − blue: :func:`~stochvis.optvis.regularizers.penalties.opponent_colours`) in R =
    min(H, W) // 2 rings of radial frequency, DC left out. Differentiable."""
    opponent = opponent_colours(images)
    height, width = opponent.shape[-2:]
    if min(height, width) < 4:
        raise ValueError(f"ring amplitudes need images of at least 4×4 pixels, got {height}×{width}")
    amplitude = torch.fft.rfft2(opponent.float(), norm="ortho").abs().flatten(2)
    return amplitude @ _ring_weights(height, width).to(amplitude).T


def spectrum_profile(images: torch.Tensor) -> torch.Tensor:
    """(3, R): the mean over ``images`` of :func:`ring_amplitudes`, the target of :class:`SpectrumMatch` (e.g. a
    class's training composites)."""
    return ring_amplitudes(torch.as_tensor(images).float()).mean(0)


class SpectrumMatch(Penalty):
    """weight · mean over the three opponent channels and every ring of the squared *relative* error of the
    image's ring amplitude (:func:`ring_amplitudes`) against ``target``: each ring counts alike (fine detail as
    much as coarse, though its amplitude is a hundredth), and an image flat at its mean is at 1, as an all-zero map
    is in the sort match (:func:`~stochvis.optvis.distribution_matching.sorted_match`), so a weight of
    ``strength / layers`` makes the spectrum one more matched layer. ``target``: (3, R) for every image or (N, 3, R)
    one per image (:func:`spectrum_profile`)."""

    def __init__(self, weight: float, target: torch.Tensor) -> None:
        self.weight = float(weight)
        target = torch.as_tensor(target, dtype=torch.float32)
        if target.dim() not in (2, 3) or target.shape[-2] != 3:
            raise ValueError(f"SpectrumMatch target must be (3, R) or (N, 3, R) ring amplitudes of the opponent "
                             f"channels (spectrum_profile), got shape {tuple(target.shape)}")
        if not torch.isfinite(target).all() or (target <= 0).any():
            raise ValueError("SpectrumMatch target amplitudes must be finite and positive: measure them from images "
                             "that are not flat (spectrum_profile)")
        self._target = target

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        target = self._target.to(images)
        if target.dim() == 3 and target.shape[0] != images.shape[0]:
            raise ValueError(f"SpectrumMatch: {target.shape[0]} per-image targets for a batch of {images.shape[0]} "
                             "images: give (3, R) for all, or exactly one (3, R) per image")
        amplitudes = ring_amplitudes(images)
        if amplitudes.shape[-1] != target.shape[-1]:
            raise ValueError(f"SpectrumMatch: images of {tuple(images.shape[-2:])} have {amplitudes.shape[-1]} rings, "
                             f"the target {target.shape[-1]}: measure the target at the images' size")
        return self.weight * ((amplitudes - target) / target).pow(2).mean((-2, -1))

    @property
    def name(self) -> str:
        return f"SpectrumMatch(weight={self.weight}, rings={self._target.shape[-1]})"
