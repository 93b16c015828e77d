"""The cut-out parameterisation: an object over a backdrop that can only be smooth, blended by a coarse mask."""

from __future__ import annotations

import pytest
import torch

from stochvis.methods.distribution_matching import match_distributions
from stochvis.optvis import params as P
from stochvis.optvis.objectives import channel
from stochvis.optvis.optimize import optimize
from stochvis.stats.quantiles import collect_quantiles


def test_images_in_range_and_the_mask_chooses_between_object_and_backdrop():
    param = P.cutout(2, 32, backdrop_cells=4, mask_cells=4, seed=0)
    images = param()
    assert images.shape == (2, 3, 32, 32) and 0 <= float(images.detach().min()) and float(images.detach().max()) <= 1
    with torch.no_grad():
        param.mask_logits.fill_(-20.0)
        assert torch.allclose(param(), param.backdrop_image(), atol=1e-6)
        param.mask_logits.fill_(20.0)
        assert torch.allclose(param(), param.foreground(), atol=1e-6)
    assert P.cutout(1, 16, channels=1, backdrop_cells=2, mask_cells=2)().shape == (1, 1, 16, 16)


def test_the_backdrop_is_smooth_whatever_its_values():
    param = P.cutout(1, 64, backdrop_cells=8, seed=0)
    with torch.no_grad():
        param.backdrop.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(0))  # colours far apart
        backdrop, cells = param.backdrop_image(), torch.sigmoid(param.backdrop)
    def largest_step(x):
        return float(torch.maximum((x[..., 1:, :] - x[..., :-1, :]).abs().amax(),
                                   (x[..., :, 1:] - x[..., :, :-1]).abs().amax()))
    # cells 8 px apart: neighbouring pixels never jump by what neighbouring cells do (measured 0.19 vs 0.70)
    assert float(backdrop.amax() - backdrop.amin()) > 0.8 and largest_step(backdrop) < 0.35 * largest_step(cells)


def test_every_part_is_optimised(tiny_model):
    param = P.cutout(1, 16, backdrop_cells=4, mask_cells=4, seed=0)
    before = {name: value.detach().clone() for name, value in param.named_parameters()}
    assert set(before) == {"backdrop", "mask_logits", "foreground.spectrum"}
    optimize(tiny_model, channel("conv2", 0), param, [], steps=3, lr=0.1, progress=False)
    for name, value in param.named_parameters():
        assert not torch.equal(value, before[name]), name


def test_distribution_matching_takes_it_by_name(tiny_model, tiny_images):
    curves = collect_quantiles(tiny_model, tiny_images[:1], ["conv1"], quantiles=8)
    result = match_distributions(tiny_model, curves, steps=2, param="cutout", size=16)
    assert result.images.shape == (1, 3, 16, 16) and isinstance(result.param, P.CutoutParam)
    with pytest.raises(ValueError, match="cut-out parameterisation cannot"):
        match_distributions(tiny_model, curves, steps=1, param="cutout", init=tiny_images[:1])


def test_bad_cells_say_what_is_valid():
    with pytest.raises(ValueError, match="backdrop_cells must be an integer from 1 to the image side 16"):
        P.cutout(1, 16, backdrop_cells=32)
    with pytest.raises(ValueError, match="mask_cells must be an integer from 1"):
        P.cutout(1, 16, mask_cells=0)
    with pytest.raises(ValueError, match="batch is the number of images"):
        P.cutout(0, 16)


def test_a_photograph_spectrum_backdrop_keeps_its_magnitude_while_it_is_optimised(tiny_model, tiny_images):
    import functools

    from stochvis.optvis.maco import MacoParam, fft_magnitude, maco, measure_spectrum

    spectrum = measure_spectrum(tiny_images, 16, source="tiny images")
    param = P.cutout(2, 16, mask_cells=4, backdrop=functools.partial(maco, spectrum), seed=0)
    assert isinstance(param.backdrop_param, MacoParam) and not hasattr(param, "backdrop")
    assert {name for name, _ in param.named_parameters()} == {"mask_logits", "foreground.spectrum",
                                                               "backdrop_param.phase"}
    before = param.backdrop_param.phase.detach().clone()
    optimize(tiny_model, channel("conv2", 0), param, [], steps=3, lr=0.1, progress=False)
    assert not torch.equal(param.backdrop_param.phase, before)  # the backdrop is optimised ...
    spatial = param.backdrop_param.spatial().detach()  # ... and its magnitude is still the photographs'
    magnitude = fft_magnitude(spatial)
    assert torch.allclose(magnitude, param.backdrop_param.magnitude.double().expand_as(magnitude), atol=1e-4)
    with torch.no_grad():
        param.mask_logits.fill_(-20.0)
        assert torch.allclose(param(), param.backdrop_image(), atol=1e-6)


def test_a_backdrop_of_another_shape_is_refused_with_the_shape_it_needs(tiny_images):
    from stochvis.optvis.maco import MacoParam, measure_spectrum

    wrong = MacoParam(measure_spectrum(tiny_images, 8), batch=2)
    with pytest.raises(ValueError, match=r"shape \(2, 3, 8, 8\); this cut-out needs \(2, 3, 16, 16\)"):
        P.CutoutParam(2, 16, backdrop=wrong)
