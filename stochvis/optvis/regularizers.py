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
* :class:`Penalty` — a term subtracted from the objective (total variation, Lp), i.e. a prior.

Octaves (an image pyramid) are a schedule of the whole loop: see ``optimize(octaves=...)``.
Randomness is drawn from ``ctx.generator`` so a seed reproduces a run bit for bit.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

from stochvis.models import LOGITS, WrappedModel


@dataclass
class StepContext:
    """What a regulariser may look at during one step."""

    step: int
    steps: int
    generator: random.Random
    # per image (N, ...); with multi-copy transforms (random crops) the mean over an image's copies
    activations: dict[str, torch.Tensor] = field(default_factory=dict)
    pixels: torch.Tensor | None = None  # centred pixels (pixel parameterisation), before the step
    grad: torch.Tensor | None = None  # raw gradient of the loss w.r.t. those pixels, before the filters
    scores: torch.Tensor | None = None  # per-image objective values


class Regularizer:
    """Base: a name for messages and ``needs_layers`` (activations it reads, captured for it)."""

    needs_layers: frozenset[str] = frozenset()
    needs_pixels: bool = False

    def setup(self, model: WrappedModel, objective) -> Regularizer:  # noqa: ANN001 (Objective, avoid a cycle)
        """Checked against the model and objective before the first step; returns the ready piece."""
        return self

    @property
    def name(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"

    def __repr__(self) -> str:
        return self.name


class Transform(Regularizer):
    """(N, C, H, W) → (copies·N, C, H', W'). A transform with ``copies`` = k > 1 returns k versions
    of every image *copy-major*: version j of image i at row j·N + i. The loop relies on that layout
    to evaluate the objective on each version j as a batch of N images (so per-image targets and
    batch-wise terms still see one image each) and to average the k scores back per image."""

    copies: int = 1

    def __call__(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError


class GradientFilter(Regularizer):
    def __call__(self, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError


class ImageProjection(Regularizer):
    needs_pixels = True

    def __call__(self, pixels: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        raise NotImplementedError


class Penalty(Regularizer):
    weight: float

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Per-image penalty (N,), subtracted (times its weight, included) from the objective."""
        raise NotImplementedError


# ----------------------------------------------------------------------------------------------
# transforms before the forward pass
# ----------------------------------------------------------------------------------------------

class Jitter(Transform):
    """Random shift by up to ``pixels`` in x and y (wrapping around, as DeepDream's np.roll)."""

    def __init__(self, pixels: int = 8) -> None:
        self.pixels = int(pixels)

    def __call__(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        if self.pixels <= 0:
            return images
        dy = ctx.generator.randint(-self.pixels, self.pixels)
        dx = ctx.generator.randint(-self.pixels, self.pixels)
        return torch.roll(images, shifts=(dy, dx), dims=(2, 3))


class RandomScale(Transform):
    """Resize by a factor drawn from ``factors`` (Olah et al. 2017: 0.9..1.1)."""

    def __init__(self, factors: Sequence[float] = tuple(1 + (i - 5) / 50 for i in range(11))) -> None:
        self.factors = tuple(float(f) for f in factors)

    def __call__(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        factor = ctx.generator.choice(self.factors)
        if factor == 1.0:
            return images
        return F.interpolate(images, scale_factor=factor, mode="bilinear", align_corners=False, recompute_scale_factor=False)


class RandomRotate(Transform):
    """Rotate by an angle (degrees) drawn from ``angles`` (Olah et al. 2017: −10..10)."""

    def __init__(self, angles: Sequence[float] = tuple(range(-10, 11))) -> None:
        self.angles = tuple(float(a) for a in angles)

    def __call__(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        angle = ctx.generator.choice(self.angles)
        if angle == 0:
            return images
        # fill=None keeps torchvision off its in-place fill path (which breaks autograd): rotate the
        # centred image, whose zero fill is mid-grey, and shift back.
        return TF.rotate(images - 0.5, angle, interpolation=TF.InterpolationMode.BILINEAR, fill=None) + 0.5


class Pad(Transform):
    """Pad with a constant (mid-grey) border so the later transforms do not expose the image edge."""

    def __init__(self, pixels: int = 12, value: float = 0.5) -> None:
        self.pixels, self.value = int(pixels), float(value)

    def __call__(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return F.pad(images, (self.pixels,) * 4, mode="constant", value=self.value)


class RandomCrops(Transform):
    """MACO's transformation robustness (Fel et al. 2023, after Xplique's ``maco``): every image is
    seen through ``crops`` random square crops per step, each resized (bilinear) to the model's
    input size, plus Gaussian and uniform pixel noise. The objective is averaged over the crops
    (``copies``), so the image must work at many positions and scales at once; it is also what lets
    the image be larger than the model's input (crops of a 512 px image, as in Xplique).

    Per crop: centre (0.5 + N(0, ``centre_std``)) in each axis, as a fraction of the image; side
    N(b, ``box_std``) clipped to [``min_box``, 1], a fraction of each side, with the mean side b
    going linearly from ``box[0]`` to ``box[1]`` over the run (Xplique: 0.5 → 0.05, so coarse
    structure first, details last). Parts of a crop outside the image read mid-grey (Xplique's zero
    extrapolation in its (−1, 1) range). Noise: N(0, ``noise_std``²) + U(−``noise_uniform``,
    ``noise_uniform``); Xplique's 0.08 and ±0.04 are in (−1, 1) units, halved here for [0, 1] images.
    Random numbers come from the loop's seeded generator (one draw seeds this step's tensors)."""

    def __init__(self, crops: int = 8, box: tuple[float, float] = (0.5, 0.05), *, box_std: float = 0.05,
                 min_box: float = 0.05, centre_std: float = 0.15, noise_std: float = 0.04,
                 noise_uniform: float = 0.02, size: tuple[int, int] | None = None) -> None:
        if int(crops) < 1:
            raise ValueError(f"RandomCrops needs at least one crop per image, got {crops}")
        if not 0 < float(min_box) <= 1 or any(not 0 < float(b) <= 1 for b in box):
            raise ValueError(f"crop sizes are fractions of the image in (0, 1]: box={box}, min_box={min_box}")
        self.copies = int(crops)
        self.box = (float(box[0]), float(box[1]))
        self.box_std, self.min_box, self.centre_std = float(box_std), float(min_box), float(centre_std)
        self.noise_std, self.noise_uniform = float(noise_std), float(noise_uniform)
        self.size = None if size is None else (int(size[0]), int(size[1]))

    def setup(self, model: WrappedModel, objective) -> RandomCrops:  # noqa: ANN001
        """Crops are resized to the model's input size unless ``size`` was given."""
        if self.size is not None:
            return self
        ready = copy.copy(self)
        ready.size = tuple(model.input_size)
        return ready

    def mean_box(self, step: int, steps: int) -> float:
        """The mean crop side at ``step`` (linear from box[0] at the first step to box[1] at the last)."""
        start, end = self.box
        return start if steps <= 1 else start + (end - start) * min(step, steps - 1) / (steps - 1)

    def __call__(self, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        n, channels, height, width = images.shape
        total = self.copies * n
        out = self.size or (height, width)
        cpu = torch.Generator().manual_seed(ctx.generator.getrandbits(63))
        centres = 0.5 + self.centre_std * torch.randn(total, 2, generator=cpu)  # (x, y), copy-major rows
        sides = (self.mean_box(ctx.step, ctx.steps) + self.box_std * torch.randn(total, generator=cpu))
        sides = sides.clamp(self.min_box, 1.0)
        # affine_grid maps output coordinates in [−1, 1] to input ones: scale by the side, shift to the centre
        theta = torch.zeros(total, 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = sides
        theta[:, :, 2] = 2 * centres - 1
        theta = theta.to(images)
        grid = F.affine_grid(theta, [total, channels, *out], align_corners=False)
        centred = (images - 0.5).repeat(self.copies, 1, 1, 1)  # zero padding = mid-grey outside the image
        crops = F.grid_sample(centred, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + 0.5
        if self.noise_std or self.noise_uniform:
            device = torch.Generator(device=images.device).manual_seed(int(torch.randint(2**62, (1,), generator=cpu)))
            noise = torch.randn(crops.shape, generator=device, device=crops.device, dtype=crops.dtype) * self.noise_std
            uniform = torch.rand(crops.shape, generator=device, device=crops.device, dtype=crops.dtype)
            crops = crops + noise + (2 * uniform - 1) * self.noise_uniform
        return crops


# ----------------------------------------------------------------------------------------------
# gradient filters (r2)
# ----------------------------------------------------------------------------------------------

def _gaussian(images: torch.Tensor, kernel: int, sigma: float) -> torch.Tensor:
    return TF.gaussian_blur(images, kernel_size=[kernel, kernel], sigma=[sigma, sigma])


class BlurGradient(GradientFilter):
    """Gaussian blur of the gradient with an odd kernel size drawn from [min_kernel, max_kernel]
    every step (Garon et al.: "best results are achieved if the kernel size is randomly chosen at
    every optimization iteration"); σ follows the kernel size (OpenCV's rule, torchvision's default)."""

    needs_pixels = True

    def __init__(self, max_kernel: int = 9, min_kernel: int = 1) -> None:
        self.min_kernel, self.max_kernel = int(min_kernel), int(max_kernel)

    def __call__(self, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        sizes = list(range(max(1, self.min_kernel) | 1, self.max_kernel + 1, 2))
        kernel = ctx.generator.choice(sizes) if sizes else 1
        if kernel <= 1:
            return grad
        return _gaussian(grad, kernel, 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8)


class NormalizeGradient(GradientFilter):
    """Divide each image's gradient by its mean absolute value (DeepDream), so the learning rate is
    the mean pixel change per step whatever the network's gradient scale."""

    def __init__(self, eps: float = 1e-12) -> None:
        self.eps = eps

    def __call__(self, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        scale = grad.abs().flatten(1).mean(1).clamp_min(self.eps)
        return grad / scale.view(-1, *([1] * (grad.dim() - 1)))


class InvertWhenSaturated(GradientFilter):
    """Garon et al.: invert the gradient while the target's softmax is above ``threshold``, so the
    image is pushed out of a saturated (flat, "average-looking") optimum and keeps changing.
    Per image; the target classes are the objective's unless ``classes`` is given."""

    needs_layers = frozenset({LOGITS})

    def __init__(self, threshold: float = 0.99, classes: int | Sequence[int] | None = None) -> None:
        self.threshold = float(threshold)
        self.classes = classes
        self.inverted = 0  # how many image-steps were inverted (a diagnostic)

    def setup(self, model: WrappedModel, objective) -> InvertWhenSaturated:  # noqa: ANN001
        classes = self.classes if self.classes is not None else getattr(objective, "classes", None)
        if classes is None:
            raise ValueError("InvertWhenSaturated needs class targets: the objective has none "
                             "(it is not a class objective); pass classes=... or drop this regularizer")
        classes = [classes] if isinstance(classes, (int, str)) else list(classes)
        return InvertWhenSaturated(self.threshold, [model.class_index(c) for c in classes])

    def __call__(self, grad: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        logits = ctx.activations[LOGITS].detach().float()
        index = torch.as_tensor(self.classes * logits.shape[0] if len(self.classes) == 1 else self.classes,
                                device=logits.device)
        prob = logits.softmax(1)[torch.arange(logits.shape[0], device=logits.device), index]
        saturated = prob > self.threshold
        self.inverted += int(saturated.sum())
        sign = torch.where(saturated, -1.0, 1.0).to(grad).view(-1, *([1] * (grad.dim() - 1)))
        return grad * sign


# ----------------------------------------------------------------------------------------------
# image projections (r1), on centred pixels (0 = mid-grey)
# ----------------------------------------------------------------------------------------------

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
        return _gaussian(pixels, kernel, self.sigma)


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


# ----------------------------------------------------------------------------------------------
# penalties
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# short constructors (the names notebooks use)
# ----------------------------------------------------------------------------------------------

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
