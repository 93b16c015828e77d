"""Gradient filters (r2): random-kernel blur, normalisation, inversion while the softmax is saturated."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stochvis.models import LOGITS, WrappedModel
from stochvis.optvis.regularizers.base import (
    GradientFilter,
    StepContext,
    gaussian_blur,
)


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
        return gaussian_blur(grad, kernel, 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8)


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
