"""An untrained decoder as the image's parameterisation: the deep decoder (Heckel & Hand 2019).

Why: a pixel or Fourier image can hold any structure, and what a network's objective asks of it it fills with the
cheapest one — a speckle, a glitter of edges no photograph has. Ulyanov et al. (2018, "Deep Image Prior") found that
the *structure* of a convolutional generator, untrained and optimised only for the one image, already prefers natural
images: their inversions of a classifier's features were more photograph-like than under a smoothness prior.
Heckel & Hand's deep decoder is the smallest such generator: a fixed random code on a coarse grid, and per layer a
1×1 convolution, a bilinear upsampling, a ReLU and a per-channel normalisation. It has fewer weights than the image
has pixels, so it cannot make noise; it draws smooth regions with edges between them. Nothing is learnt from data
here: each image has its own weights, optimised by the objective alone (no trained generator).

The last layer maps to three channels in a colour basis (:class:`~stochvis.optvis.params.ColourStatistics`, as
:class:`~stochvis.optvis.params.FFTParam`: ImageNet's or one measured from an image set) and a sigmoid.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from stochvis.inputs import image_size
from stochvis.optvis.params import ColourStatistics, FFTParam, ImageParam, Size, _check_batch, in_colours


class DecoderParam(ImageParam):
    """``batch`` images, each drawn by its own deep decoder of ``width`` channels from a fixed random code of
    ``start``² positions, upsampled ×2 per layer up to ``resolution`` and, when that is below the image's side,
    bilinearly to it (a coarser, cheaper decoder: the image's detail is ``resolution``'s). Weights are stored
    unit-scaled and divided by √width in the forward, so that Adam's step is a like fraction of every weight; the
    output weights start at ``sd`` (a near-grey start, as the Fourier image's). ``detail`` (a gain in [0, 1]): a
    Fourier image (:class:`~stochvis.optvis.params.FFTParam`) added in the decorrelated colours at that gain — the
    decoder draws the regions and their shading, the Fourier image, slowed by the gain under Adam, the texture."""

    def __init__(self, batch: int, size: int | Size, *, width: int = 64, start: int = 8, resolution: int | None = None,
                 sd: float = 0.1, seed: int = 0, colour: ColourStatistics | None = None, detail: float = 0.0) -> None:
        super().__init__()
        _check_batch(batch)
        self.batch, self.size, self.channels = batch, image_size(size), 3
        side = min(self.size)
        resolution = side if resolution is None else resolution
        for name, value in (("width", width), ("start", start), ("resolution", resolution)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        layers = math.log2(resolution / start) if resolution >= start else -1
        if layers < 1 or not layers.is_integer() or resolution > side:
            raise ValueError(f"resolution={resolution} must be start={start} times a power of two (at least 2) and at "
                             f"most the image side {side}: e.g. {', '.join(str(start * 2 ** i) for i in range(1, 6) if start * 2 ** i <= side)}")
        if isinstance(detail, bool) or not isinstance(detail, (int, float)) or not 0 <= detail <= 1:
            raise ValueError(f"detail must be a gain in [0, 1] (0: the decoder alone), got {detail!r}")
        colour = (colour or ColourStatistics.imagenet()).for_batch(batch)
        self.width, self.resolution = width, resolution
        generator = torch.Generator().manual_seed(seed)
        self.register_buffer("code", torch.randn(batch, width, start, start, generator=generator))
        self.weights = nn.ParameterList(nn.Parameter(torch.randn(batch, width, width, generator=generator))
                                        for _ in range(int(layers)))
        self.gains = nn.Parameter(torch.ones(int(layers), batch, width, 1, 1))
        self.biases = nn.Parameter(torch.zeros(int(layers), batch, width, 1, 1))
        self.output = nn.Parameter(torch.randn(batch, 3, width, generator=generator) * sd)
        colour.register(self)
        self.detail = float(detail)
        # the fine detail a decoder cannot draw, as a Fourier image at a lower gain (so Adam moves it slower)
        self.fine = FFTParam(batch, self.size, seed=seed + 1) if detail else None

    def forward(self) -> torch.Tensor:
        x, n, scale = self.code, self.batch, self.width ** -0.5
        for layer, weight in enumerate(self.weights):
            x = F.interpolate(torch.einsum("nchw,ndc->ndhw", x, weight * scale), scale_factor=2, mode="bilinear",
                              align_corners=False).relu()
            # each image's channel normalised over its positions: a group norm with a group per (image, channel)
            x = F.group_norm(x.reshape(1, n * self.width, *x.shape[2:]), n * self.width).reshape(x.shape)
            x = x * self.gains[layer] + self.biases[layer]
        image = torch.einsum("nchw,ndc->ndhw", x, self.output * scale)
        if tuple(image.shape[2:]) != self.size:
            image = F.interpolate(image, size=self.size, mode="bilinear", align_corners=False)
        if self.fine is not None:
            image = image + self.detail * self.fine.decorrelated()
        return torch.sigmoid(in_colours(image, self.color, self.color_offset))


def deep_decoder(batch: int = 1, size: int | Size = 224, *, width: int = 64, start: int = 8,
                 resolution: int | None = None, seed: int = 0, colour: ColourStatistics | None = None,
                 detail: float = 0.0, device: torch.device | str | None = None) -> DecoderParam:
    """A :class:`DecoderParam` (Heckel & Hand 2019's deep decoder, untrained, one per image): images made of smooth
    regions and edges, which cannot hold noise. ``colour``: a measured colour basis instead of ImageNet's
    (:func:`~stochvis.optvis.params.measure_colour`); ``resolution``: the decoder's own side, below ``size`` for
    a cheaper, smoother image; ``detail`` > 0: a Fourier image added at that gain before the colours, for the fine
    texture (fur, feathers, grain) a decoder cannot draw."""
    return DecoderParam(batch, size, width=width, start=start, resolution=resolution, seed=seed,
                        colour=colour, detail=detail).to(device or "cpu")


__all__ = ["DecoderParam", "deep_decoder"]
