"""The deep decoder as an image parameterisation (``optvis.decoder_param``): one untrained decoder per image, which
draws smooth regions and edges and cannot draw noise."""

from __future__ import annotations

import pytest
import torch

from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.optvis.decoder_param import DecoderParam, deep_decoder
from stochvis.optvis.optimize import optimize


def fit(param: DecoderParam, target: torch.Tensor, steps: int = 60) -> float:
    """Mean squared error after ``steps`` of Adam (the rows' lr) towards ``target``."""
    optimizer = torch.optim.Adam(param.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (param() - target).square().mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return float((param() - target).square().mean())


def test_images_are_rgb_in_range_and_start_near_the_colour_mean():
    colour = P.ColourStatistics(torch.eye(3) * 0.2, torch.tensor([0.7, 0.3, 0.2]))
    param = deep_decoder(2, 32, width=8, start=4, seed=0, colour=colour)
    images = param()
    assert images.shape == (2, 3, 32, 32) and images.min() > 0 and images.max() < 1
    assert torch.allclose(images.mean((0, 2, 3)), colour.mean, atol=0.05)  # a near-grey start, as the Fourier image's
    assert not torch.allclose(images[0], images[1])  # each image its own code and weights


def test_each_image_has_its_own_decoder():
    param = deep_decoder(3, 16, width=8, start=4, seed=1)
    param()[0].sum().backward()
    for weight in param.weights:
        assert weight.grad[0].abs().sum() > 0 and torch.all(weight.grad[1:] == 0)
    assert torch.all(param.output.grad[1:] == 0) and torch.all(param.gains.grad[:, 1:] == 0)


def test_a_coarser_decoder_is_upsampled_to_the_image_side():
    param = deep_decoder(1, 32, width=8, start=4, resolution=16)
    assert param().shape == (1, 3, 32, 32) and len(param.weights) == 2  # 4 → 8 → 16, then bilinearly to 32


def test_it_draws_smooth_images_far_better_than_noise():
    """Fewer weights than pixels: a smooth image is within its reach, white noise is not (Heckel & Hand's point)."""
    torch.manual_seed(0)
    ramp = torch.linspace(0.2, 0.8, 32)
    smooth = torch.stack([ramp[None, :].expand(32, 32), ramp[:, None].expand(32, 32), 0.5 * torch.ones(32, 32)])[None]
    noise = torch.rand(1, 3, 32, 32)
    smooth_error = fit(deep_decoder(1, 32, width=8, start=4, seed=0), smooth)
    noise_error = fit(deep_decoder(1, 32, width=8, start=4, seed=0), noise)
    assert sum(p.numel() for p in deep_decoder(1, 32, width=8, start=4).parameters()) < 3 * 32 * 32
    assert smooth_error < 0.1 * noise_error, (smooth_error, noise_error)


def test_optimize_takes_it_by_name(tiny_model):
    run = optimize(tiny_model, O.channel("conv2", 0), "decoder", steps=8, size=16, batch=2, progress=False)
    assert run.images.shape == (2, 3, 16, 16)
    assert run.history[-1].mean() > run.history[0].mean()


def test_bad_sizes_and_colours_are_refused_with_what_would_do():
    with pytest.raises(ValueError, match="power of two.*e.g. 8, 16, 32"):
        deep_decoder(1, 32, start=4, resolution=24)
    with pytest.raises(ValueError, match="at most the image side 32"):
        deep_decoder(1, 32, start=4, resolution=64)
    with pytest.raises(ValueError, match="width must be a positive integer"):
        deep_decoder(1, 32, width=0, start=4)
    colours = P.ColourStatistics.stack([P.ColourStatistics.imagenet()] * 3)
    with pytest.raises(ValueError, match="3 per-image colour bases for a batch of 2"):
        deep_decoder(2, 32, start=4, colour=colours)
    with pytest.raises(ValueError, match="makes RGB images"):
        optimize(_grey_model(), O.channel("conv", 0), "decoder", steps=1, size=16, progress=False)


def _grey_model():
    from stochvis.models import wrap_model

    return wrap_model(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)), mean=[0.5], std=[0.5], input_size=16,
                      classes=None, aliases={"conv": "0"}, device="cpu")


def test_detail_adds_a_slower_fourier_image_for_the_texture():
    plain = deep_decoder(1, 32, width=8, start=4, seed=2)
    detailed = deep_decoder(1, 32, width=8, start=4, seed=2, detail=0.5)
    assert plain.fine is None and detailed.fine is not None
    with torch.no_grad():
        detailed.fine.spectrum.zero_()
    assert torch.allclose(detailed(), plain())  # the same decoder; the Fourier image adds only what it holds
    with torch.no_grad():
        detailed.fine.spectrum.normal_(0, 1)
    assert not torch.allclose(detailed(), plain())
    detailed().sum().backward()
    assert detailed.fine.spectrum.grad.abs().sum() > 0 and detailed.weights[0].grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"detail must be a gain in \[0, 1\]"):
        deep_decoder(1, 32, start=4, detail=2.0)
