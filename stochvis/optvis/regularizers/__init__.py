"""Regularisers of activation maximisation, each a small piece with its strength.

The source documents (Garon et al., after Yosinski et al. 2015) write one regularised ascent step as

    x ← r1(x + η · r2(∂a/∂x))

so a regulariser acts at one of four places, and each class here is one of them:

* :class:`Transform` — changes the image *before* the forward pass, differentiably (jitter, random
  scale, rotation, padding, MACO's random crops). The network must then like the image under every
  such change, which removes patterns that only work at one exact pixel alignment. A transform may
  return several versions of each image (``copies``); the loop averages their scores per image.
* :class:`GradientFilter` — r2, acts on the gradient (random-kernel Gaussian blur, normalisation,
  inversion while the softmax is saturated).
* :class:`ImageProjection` — r1, acts on the pixels after the step (L2 decay, blur every k steps,
  small-norm and small-contribution clipping).
* :class:`Penalty` — a term subtracted from the objective (total variation, Lp, a class's pixel quantiles,
  opponent-colour curves, ring spectrum or patch mixture), i.e. a prior.

Octaves (an image pyramid) are a schedule of the whole loop: see ``optimize(octaves=...)``.
Randomness is drawn from ``ctx.generator`` so a seed reproduces a run bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence

from stochvis.optvis.regularizers.base import (
    GradientFilter,
    ImageProjection,
    OnRows,
    Penalty,
    Regularizer,
    StepContext,
    Transform,
)
from stochvis.optvis.regularizers.gradients import BlurGradient, InvertWhenSaturated, NormalizeGradient
from stochvis.optvis.regularizers.patch_prior import PatchMixture, PatchOutliers, fit_patch_mixture, image_patches
from stochvis.optvis.regularizers.penalties import (
    ColourQuantiles,
    Lp,
    PixelQuantiles,
    TotalVariation,
    colour_curves,
    opponent_colours,
)
from stochvis.optvis.regularizers.projections import BlurImage, ClipSmallContribution, ClipSmallNorm, Decay
from stochvis.optvis.regularizers.spectrum import SpectrumMatch, ring_amplitudes, spectrum_profile
from stochvis.optvis.regularizers.transforms import Jitter, Pad, RandomCrops, RandomRotate, RandomScale

# short constructors (the names notebooks use)

def jitter(pixels: int = 8) -> Jitter:
    return Jitter(pixels)


def random_scale(factors: Sequence[float] = tuple(1 + (i - 5) / 50 for i in range(11))) -> RandomScale:
    return RandomScale(factors)


def random_rotate(angles: Sequence[float] = tuple(range(-10, 11))) -> RandomRotate:
    return RandomRotate(angles)


def pad(pixels: int = 12, value: float = 0.5) -> Pad:
    return Pad(pixels, value)


def random_crops(crops: int = 8, box: tuple[float, float] = (0.5, 0.05), *, box_std: float = 0.05,
                 min_box: float = 0.05, centre_std: float = 0.15, noise_std: float = 0.04, noise_uniform: float = 0.02,
                 size: tuple[int, int] | None = None) -> RandomCrops:
    return RandomCrops(crops, box, box_std=box_std, min_box=min_box, centre_std=centre_std, noise_std=noise_std,
                       noise_uniform=noise_uniform, size=size)


def blur_gradient(max_kernel: int = 9, min_kernel: int = 1) -> BlurGradient:
    return BlurGradient(max_kernel, min_kernel)


def normalize_gradient() -> NormalizeGradient:
    return NormalizeGradient()


def invert_when_saturated(threshold: float = 0.99, classes: int | Sequence[int] | None = None) -> InvertWhenSaturated:
    return InvertWhenSaturated(threshold, classes)


def decay(theta: float = 0.01) -> Decay:
    return Decay(theta)


def blur_image(sigma: float = 0.5, every: int = 4) -> BlurImage:
    return BlurImage(sigma, every)


def clip_small_norm(percentile: float = 20.0) -> ClipSmallNorm:
    return ClipSmallNorm(percentile)


def clip_small_contribution(percentile: float = 50.0) -> ClipSmallContribution:
    return ClipSmallContribution(percentile)


def total_variation(weight: float = 0.01, beta: float = 1.0) -> TotalVariation:
    return TotalVariation(weight, beta)


def lp(weight: float = 0.01, p: float = 2.0) -> Lp:
    return Lp(weight, p)


def l2(weight: float = 0.01) -> Lp:
    return Lp(weight, 2.0)


def from_strengths(
    *,
    jitter: int = 0,
    scale: float = 0.0,
    rotate: float = 0.0,
    blur_kernel: int = 1,
    normalize: bool = True,
    saturation: float | None = None,
    decay: float = 0.0,
    blur_sigma: float = 0.0,
    blur_every: int = 4,
    norm_pct: float = 0.0,
    contribution_pct: float = 0.0,
    tv: float = 0.0,
    tv_beta: float = 1.0,
    l2: float = 0.0,
    alpha_norm: float = 0.0,
    alpha: float = 6.0,
) -> list[Regularizer]:
    """**The** builder of a regulariser list from plain strengths, zero meaning "off" (widget sliders,
    the notebooks' ladders, inversion's priors). ``scale`` is the largest relative zoom (±), ``rotate``
    the largest angle (±°); ``tv`` weighs TV^``tv_beta``, ``l2`` the L2 penalty and ``alpha_norm``
    the |x − 0.5|^``alpha`` norm. Within each place of the loop the pieces act in the order listed."""
    regs: list[Regularizer] = []
    if jitter:
        regs.append(Jitter(int(jitter)))
    if scale:
        regs.append(RandomScale([1 + scale * (i - 5) / 5 for i in range(11)]))
    if rotate:
        regs.append(RandomRotate([rotate * (i - 5) / 5 for i in range(11)]))
    if blur_kernel > 1:
        regs.append(BlurGradient(int(blur_kernel)))
    if normalize:
        regs.append(NormalizeGradient())
    if saturation is not None and saturation < 1.0:
        regs.append(InvertWhenSaturated(saturation))
    if decay:
        regs.append(Decay(decay))
    if blur_sigma and blur_every:
        regs.append(BlurImage(blur_sigma, int(blur_every)))
    if norm_pct:
        regs.append(ClipSmallNorm(norm_pct))
    if contribution_pct:
        regs.append(ClipSmallContribution(contribution_pct))
    if tv:
        regs.append(TotalVariation(tv, beta=tv_beta))
    if l2:
        regs.append(Lp(l2, p=2.0))
    if alpha_norm:
        regs.append(Lp(alpha_norm, p=alpha))
    return regs


__all__ = [
    "BlurGradient", "BlurImage", "ClipSmallContribution", "ClipSmallNorm", "ColourQuantiles", "Decay", "GradientFilter", "ImageProjection",
    "InvertWhenSaturated", "Jitter", "Lp", "NormalizeGradient", "OnRows", "Pad", "PatchMixture", "PatchOutliers", "Penalty", "PixelQuantiles", "RandomCrops",
    "RandomRotate", "RandomScale", "Regularizer", "SpectrumMatch", "StepContext", "TotalVariation", "Transform", "blur_gradient",
    "blur_image", "clip_small_contribution", "clip_small_norm", "colour_curves", "decay", "fit_patch_mixture", "from_strengths", "image_patches", "invert_when_saturated",
    "jitter", "l2", "lp", "normalize_gradient", "opponent_colours", "pad", "random_crops", "random_rotate", "random_scale",
    "ring_amplitudes", "spectrum_profile", "total_variation",
]
