"""Transforms before the forward pass: jitter, random scale and rotation, padding, MACO's random crops."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

from stochvis.models import WrappedModel
from stochvis.optvis.regularizers.base import (
    StepContext,
    Transform,
)


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
