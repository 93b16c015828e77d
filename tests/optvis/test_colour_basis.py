"""The Fourier parameterisation's colour basis measured from an image set (``params.measure_colour``)."""

from __future__ import annotations

import pytest
import torch

from stochvis.optvis import params as P


def coloured_images(chroma: float, n: int = 6, size: int = 16) -> torch.Tensor:
    """Images whose red − blue axis varies ``chroma`` as much as their brightness."""
    g = torch.Generator().manual_seed(0)
    lum = torch.rand(n, 1, size, size, generator=g) * 0.4 + 0.3
    hue = (torch.rand(n, 1, size, size, generator=g) - 0.5) * 0.4 * chroma
    return torch.cat([lum + hue, lum, lum - hue], 1).clamp(0, 1)


def test_measured_basis_is_the_square_root_of_the_pixels_covariance_and_their_mean():
    images = coloured_images(1.0)
    stats = P.measure_colour(images)
    pixels = images.permute(1, 0, 2, 3).reshape(3, -1).double()
    root = stats.sqrt_covariance.double()
    assert torch.allclose(root @ root.T, torch.cov(pixels), atol=1e-6)
    assert torch.allclose(stats.mean.double(), pixels.mean(1), atol=1e-6)


def test_a_more_colourful_set_has_more_chroma_gain_after_normalisation():
    grey, colourful = (P.measure_colour(coloured_images(c)).normalized().norm(dim=-2) for c in (0.2, 1.0))
    assert grey[0] == pytest.approx(1.0) and colourful[0] == pytest.approx(1.0)  # luminance at gain 1
    assert colourful[1] > 2 * grey[1]


def test_default_basis_is_imagenets_and_a_measured_one_moves_chroma_faster():
    assert torch.equal(P.fft(2, 16, seed=0)(), P.fft(2, 16, seed=0, colour=P.ColourStatistics.imagenet())())
    spread = {}
    for name, colour in (("imagenet", None), ("colourful", P.measure_colour(coloured_images(1.5)))):
        param = P.fft(1, 16, seed=0, colour=colour)
        with torch.no_grad():
            param.spectrum.normal_(generator=torch.Generator().manual_seed(1))  # the same coefficients for both
        image = param().detach()[0]
        spread[name] = float((image.amax(0) - image.amin(0)).mean())  # mean colour range over RGB
    assert spread["colourful"] > 1.3 * spread["imagenet"]


def test_per_image_bases_start_each_image_at_its_own_mean_colour():
    red, blue = (P.ColourStatistics(P.ColourStatistics.imagenet().sqrt_covariance, torch.tensor(m)) for m in ([0.7, 0.3, 0.3], [0.3, 0.3, 0.7]))
    param = P.fft(2, 8, seed=0, colour=P.ColourStatistics.stack([red, blue]))
    with torch.no_grad():
        param.spectrum.zero_()
    images = param()
    assert torch.allclose(images[0, :, 0, 0], red.mean) and torch.allclose(images[1, :, 0, 0], blue.mean)


def test_bad_colour_bases_are_refused_with_what_is_valid():
    with pytest.raises(ValueError, match=r"\(3, 3\) or \(N, 3, 3\)"):
        P.ColourStatistics(torch.eye(2), torch.full((2,), 0.5))
    with pytest.raises(ValueError, match="inside \\(0, 1\\)"):
        P.ColourStatistics(torch.eye(3), torch.tensor([0.5, 1.0, 0.5]))
    with pytest.raises(ValueError, match="2 per-image colour bases for a batch of 3"):
        P.fft(3, 8, colour=P.ColourStatistics.stack([P.ColourStatistics.imagenet()] * 2))
    with pytest.raises(ValueError, match="decorrelated RGB"):
        P.fft(1, 8, channels=1, colour=P.ColourStatistics.imagenet())
    with pytest.raises(ValueError, match=r"RGB images \(N, 3, H, W\)"):
        P.measure_colour(torch.rand(2, 1, 4, 4))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        P.measure_colour(torch.rand(2, 3, 4, 4) * 255)


def test_a_mask_measures_the_colours_of_one_region_only():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 6, 6) * 0.2
    images[..., :3] += 0.7  # a bright left half; the right half dark
    mask = torch.zeros(2, 1, 6, 6, dtype=torch.bool)
    mask[..., :3] = True
    left = P.measure_colour(images, mask)
    alone = P.measure_colour(images[..., :3])  # the same pixels, cropped
    assert torch.allclose(left.mean, alone.mean) and torch.allclose(left.sqrt_covariance.abs(), alone.sqrt_covariance.abs())
    assert (left.mean > P.measure_colour(images).mean).all()  # the dark half no longer pulls the mean down
    with pytest.raises(ValueError, match="mask must be"):
        P.measure_colour(images, mask[:, :, :3])


def test_in_colours_per_image_bases_equal_the_shared_one_when_repeated_and_differ_when_not():
    """The one colour stage of the Fourier and decoder images: a basis repeated per image gives the shared one's
    logits (up to the batched product's rounding), and a different basis for one image changes only that image."""
    torch.manual_seed(0)
    image = torch.randn(3, 3, 8, 8)
    shared = P.ColourStatistics.imagenet()
    measured = P.measure_colour(torch.rand(2, 3, 8, 8))
    one = P.in_colours(image, shared.normalized(), torch.logit(shared.mean))
    per_image = P.ColourStatistics.stack([shared, shared, measured])
    several = P.in_colours(image, per_image.normalized(), torch.logit(per_image.mean))
    assert torch.allclose(one[:2], several[:2], atol=1e-6)
    assert not torch.allclose(one[2], several[2], atol=1e-3)
