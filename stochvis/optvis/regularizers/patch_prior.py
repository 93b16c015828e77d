"""A class's local pixel structure as a statistic: a Gaussian mixture of its photographs' small patches, each colour
channel's patch mean removed (:func:`fit_patch_mixture`), and a penalty on an image's *outlier* patches, those less
likely under it than nearly every real patch (:class:`PatchOutliers`).

Why: the network's channel distributions leave the finest scale of an image almost free, and the natural table's
matched images fill it with a speckle of saturated colour where photographs are smooth; a ring spectrum says how much
fine detail there is, not what it looks like. A mixture of patches is the classic prior of natural-image restoration
(EPLL: Zoran & Weiss 2011, "From learning models of natural image patches to whole image restoration"): it knows
edges and smooth gradients from noise. Measured on the table's committed seed-0 images (mean log-likelihood per
dimension of 6×6 patches under each kind's mixture, 8 components, fitted on the rule's fit part): validation
composites 2.2–2.6, VITAL's images 2.2, the drawn colour-basis row 1.5–1.7, the silhouette row 1.4–1.7 (its fruit
1.42, the kind VGG16 finds least real). Penalising only the outlier patches, not the mean, is the source documents'
"decrease the outlier neurons" at the shallowest layer: an image cannot pay for speckle with a flat sky.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from stochvis.optvis.regularizers.base import Penalty


def image_patches(images: torch.Tensor, size: int, stride: int, scale: int = 1) -> torch.Tensor:
    """(N, L, 3·size²): every ``size``×``size`` patch at ``stride`` of (N, 3, H, W) images, each colour channel's
    patch mean subtracted (the colour of a region is the channel statistics' business; its structure is this
    prior's); ``scale`` > 1: of the images averaged over ``scale``×``scale`` pixels first, a coarser grain seen
    through the same window. Differentiable."""
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"patches are taken of (N, 3, H, W) colour images, got shape {tuple(images.shape)}")
    if scale < 1 or min(images.shape[-2:]) < size * scale:
        largest = min(images.shape[-2:]) // size
        allowed = f"scales 1 to {largest}" if largest else f"no scale (smaller than one {size}×{size} patch)"
        raise ValueError(f"patches of {size}×{size} at scale {scale} need a whole scale ≥ 1 and images at least "
                         f"{size}·scale pixels on a side; images of {tuple(images.shape[-2:])} allow {allowed}")
    if scale > 1:
        images = F.avg_pool2d(images.float(), scale)
    columns = F.unfold(images.float(), size, stride=stride)  # (N, 3·size², L), channel-major
    n, _, count = columns.shape
    columns = columns.view(n, 3, size * size, count)
    return (columns - columns.mean(2, keepdim=True)).reshape(n, 3 * size * size, count).transpose(1, 2)


@dataclass(frozen=True)
class PatchMixture:
    """A Gaussian mixture of mean-removed patches, as tensors: ``means`` (K, D), ``precision_cholesky`` (K, D, D)
    (sklearn's: the precision is ``P Pᵀ``), ``log_weights`` (K,); ``threshold``: the log-likelihood per dimension
    below which a patch is an outlier (a low quantile of real patches held aside from the fit); ``scale``: the
    patches are of the image averaged over ``scale``×``scale`` pixels (1: the image itself), so that one size of
    patch models a coarser grain too."""

    size: int
    means: torch.Tensor
    precision_cholesky: torch.Tensor
    log_weights: torch.Tensor
    threshold: float
    scale: int = 1

    def __post_init__(self) -> None:
        if self.scale < 1:
            raise ValueError(f"scale={self.scale}: a whole number of pixels per patch pixel, 1 or more")
        k, d = self.means.shape
        if d != 3 * self.size ** 2 or self.precision_cholesky.shape != (k, d, d) or self.log_weights.shape != (k,):
            raise ValueError(f"a mixture of {self.size}×{self.size} colour patches needs means (K, {3 * self.size ** 2}), "
                             f"precision_cholesky (K, D, D) and log_weights (K,); got {tuple(self.means.shape)}, "
                             f"{tuple(self.precision_cholesky.shape)}, {tuple(self.log_weights.shape)}")

    def patches(self, images: torch.Tensor, stride: int) -> torch.Tensor:
        """(N, L, D): the patches of (N, 3, H, W) images that this mixture scores, at its scale. Differentiable."""
        return image_patches(images, self.size, stride, self.scale)

    def log_likelihood(self, patches: torch.Tensor) -> torch.Tensor:
        """Per patch (..., D) → (...): log-density per dimension (nats), so that sizes compare."""
        flat = patches.reshape(-1, patches.shape[-1]).float()
        means, chol = self.means.to(flat), self.precision_cholesky.to(flat)
        k, d = means.shape
        roots = chol.permute(1, 0, 2).reshape(d, k * d)  # every component's precision root side by side
        log_det = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        squared = _SquaredMahalanobis.apply(flat, roots, torch.einsum("kd,kde->ke", means, chol).reshape(-1))
        per_component = -0.5 * squared + log_det - 0.5 * d * math.log(2 * math.pi)
        total = torch.logsumexp(per_component + self.log_weights.to(flat), dim=-1)
        return (total / d).view(patches.shape[:-1])


class _SquaredMahalanobis(torch.autograd.Function):
    """(N, D) patches x → (N, K): ‖Pₖᵀx − Pₖᵀμₖ‖² for every component, from one matrix product.

    Why its own backward: autograd of the plain expression makes five passes over the (N, K·D) projections (subtract,
    square, sum, and their gradients) and a gradient for every patch, though :class:`PatchOutliers` gives one only to
    outlier patches. Here the means' projections ride in the product (a column of ones), one fused norm reads the
    result, and the backward multiplies only the rows that have a gradient: 1.2–1.7× faster as the silhouette row runs
    it, 1.5–2.4× when the projections outgrow the cache (``benchmarks/patch_prior.py``). ``roots``: (D, K·D), every
    component's precision root side by side; ``offsets``: (K·D,) Pₖᵀμₖ."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, roots: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        components = offsets.numel() // x.shape[1]
        ones = x.new_ones(len(x), 1)
        projected = torch.cat([x, ones], 1) @ torch.cat([roots, -offsets[None]], 0)  # (N, K·D)
        ctx.save_for_backward(projected, roots)
        return torch.linalg.vector_norm(projected.view(len(x), components, -1), dim=-1).square()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        projected, roots = ctx.saved_tensors
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            raise NotImplementedError("a patch mixture's parameters are fitted by EM, not by gradient")
        n, components = grad.shape
        rows = grad.ne(0).any(1).nonzero().squeeze(1)
        grad_x = grad.new_zeros(n, roots.shape[0])
        if len(rows):
            chosen = projected.index_select(0, rows).view(len(rows), components, -1)
            chosen.mul_(2 * grad.index_select(0, rows).unsqueeze(-1))  # a copy: the saved projections stay whole
            grad_x.index_copy_(0, rows, chosen.view(len(rows), -1) @ roots.T)
        return grad_x, None, None


def fit_patch_mixture(images: torch.Tensor, *, size: int = 6, components: int = 8, stride: int = 3,
                      max_patches: int = 20000, outlier_quantile: float = 0.1, seed: int = 0,
                      scale: int = 1, masks: torch.Tensor | None = None) -> PatchMixture:
    """Fit :class:`PatchMixture` to half of ``images`` (N, 3, H, W) in [0, 1] (at most ``max_patches`` of their
    patches, sklearn's full-covariance mixture) and set its outlier threshold at the ``outlier_quantile`` of the
    other half's patches' log-likelihoods: the half held aside says what a real patch scores, which the fitted half,
    flattered by the fit, would not. ``scale`` > 1: patches of the images averaged over ``scale``×``scale`` pixels.
    ``masks`` (N, 1, H, W): only the patches that hold some of the mask, e.g. an object's own pixels and its edge
    (cut-outs on a flat canvas, whose flat patches would otherwise be most of the fit)."""
    from sklearn.mixture import GaussianMixture
    from threadpoolctl import threadpool_limits

    images = torch.as_tensor(images).float()
    if len(images) < 2:
        raise ValueError(f"a patch mixture needs at least 2 images (half to fit, half to set the threshold), got "
                         f"{len(images)}")
    if not 0 < outlier_quantile < 1:
        raise ValueError(f"outlier_quantile={outlier_quantile}: a quantile strictly between 0 and 1")
    if masks is not None and (masks.dim() != 4 or masks.shape[1] != 1 or masks.shape[0] != len(images)
                              or masks.shape[-2:] != images.shape[-2:]):
        raise ValueError(f"masks must be (N, 1, H, W) for images {tuple(images.shape)}, got {tuple(masks.shape)}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=generator)
    halves = order[: len(images) // 2], order[len(images) // 2:]

    def patches_of(rows: torch.Tensor) -> torch.Tensor:
        every = image_patches(images[rows], size, stride, scale).reshape(-1, 3 * size * size)
        if masks is None:
            return every
        inside = F.unfold(F.avg_pool2d(masks[rows].float(), scale), size, stride=stride).amax(1).flatten() > 0
        if not inside.any():
            raise ValueError("no patch holds any of the masks: give masks that mark the pixels to model")
        return every[inside]

    patches = patches_of(halves[0])
    if len(patches) > max_patches:
        patches = patches[torch.randperm(len(patches), generator=generator)[:max_patches]]
    # one BLAS thread: EM is a few seconds per 10,000 patches on one core, while BLAS threads that spin beside
    # another busy process (the report runs two notebooks side by side) made it ten times slower
    with threadpool_limits(limits=1, user_api="blas"):
        mixture = GaussianMixture(components, covariance_type="full", reg_covar=1e-5, max_iter=200,
                                  random_state=seed).fit(patches.double().numpy())
    fitted = PatchMixture(size, torch.as_tensor(mixture.means_, dtype=torch.float32),
                          torch.as_tensor(mixture.precisions_cholesky_, dtype=torch.float32),
                          torch.as_tensor(mixture.weights_, dtype=torch.float32).log(), threshold=0.0, scale=scale)
    with torch.no_grad():
        scores = fitted.log_likelihood(patches_of(halves[1]))
    return dataclasses.replace(fitted, threshold=float(torch.quantile(scores, outlier_quantile)))


class PatchOutliers(Penalty):
    """weight · mean over an image's patches of how far each falls below its mixture's outlier threshold
    (log-likelihood per dimension, :class:`PatchMixture`): zero for an image whose every patch is as likely as nine
    real ones in ten, growing with each speckled or garish patch, never rewarding flatness. ``mixtures``: one for
    every image, or one per image of the batch (e.g. each image's kind's), in batch order."""

    def __init__(self, weight: float, mixtures: PatchMixture | Sequence[PatchMixture], stride: int = 3) -> None:
        self.weight, self.stride = float(weight), int(stride)
        self._mixtures = [mixtures] if isinstance(mixtures, PatchMixture) else list(mixtures)
        if not self._mixtures:
            raise ValueError("PatchOutliers needs a mixture (fit_patch_mixture), or one per image")
        if self.stride < 1:
            raise ValueError(f"stride={stride}: a positive number of pixels")

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if len(self._mixtures) not in (1, images.shape[0]):
            raise ValueError(f"PatchOutliers: {len(self._mixtures)} per-image mixtures for a batch of {images.shape[0]} "
                             "images: give one for all, or exactly one per image")
        mixtures = self._mixtures * images.shape[0] if len(self._mixtures) == 1 else self._mixtures
        out = images.new_zeros(images.shape[0], dtype=torch.float32)
        for mixture in {id(m): m for m in mixtures}.values():  # each mixture once, on all its images
            rows = torch.tensor([i for i, m in enumerate(mixtures) if m is mixture], device=images.device)
            scores = mixture.log_likelihood(mixture.patches(images[rows], self.stride))
            out = out.index_add(0, rows, (mixture.threshold - scores).clamp_min(0).mean(1))
        return self.weight * out

    @property
    def name(self) -> str:
        return f"PatchOutliers(weight={self.weight}, mixtures={len({id(m) for m in self._mixtures})}, stride={self.stride})"
