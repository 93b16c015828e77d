"""The four places a regulariser acts in x ← r1(x + η·r2(∂a/∂x)), and the step context each one sees."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from stochvis.models import WrappedModel


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


class OnRows(Penalty):
    """``penalty`` on rows ``start:stop`` of the batch only, 0 on the others: a prior for one view of images shown
    several ways in one batch (:class:`~stochvis.optvis.shaped.ShapedParam`; as
    :func:`~stochvis.optvis.objectives.on_rows` for an objective), whose per-image targets name that view's images."""

    def __init__(self, penalty: Penalty, start: int, stop: int) -> None:
        if not isinstance(penalty, Penalty):
            raise TypeError(f"OnRows restricts a Penalty, got {type(penalty).__name__}")
        if not 0 <= start < stop:
            raise ValueError(f"rows {start}:{stop}: need 0 ≤ start < stop")
        self.penalty, self.start, self.stop = penalty, int(start), int(stop)
        self.weight = penalty.weight

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[0] < self.stop:
            raise ValueError(f"{self.penalty.name} on rows {self.start}:{self.stop} of a batch of {images.shape[0]}")
        out = images.new_zeros(images.shape[0], dtype=torch.float32)
        out[self.start:self.stop] = self.penalty(images[self.start:self.stop]).float()
        return out

    @property
    def name(self) -> str:
        return f"{self.penalty.name}[{self.start}:{self.stop}]"


def gaussian_blur(images: torch.Tensor, kernel: int, sigma: float) -> torch.Tensor:
    """A separable Gaussian blur of (N, C, H, W) images: the blur of gradients (r2) and of pixels (r1) alike."""
    from torchvision.transforms.v2 import functional as TF

    return TF.gaussian_blur(images, kernel_size=[kernel, kernel], sigma=[sigma, sigma])
