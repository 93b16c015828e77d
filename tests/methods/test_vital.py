"""VITAL-style distribution matching (stochvis.methods.distribution_matching): a few steps on the tiny
network bring an image's channel distributions close to a real image's, per-image targets hold
several classes in one batch, and the term adds to any other objective."""

from __future__ import annotations

import pytest
import torch

from stochvis.methods.distribution_matching import class_targets, distances, drawn_targets, match_distributions, vital
from stochvis.methods.inversion import activations_of, reconstruction_loss
from stochvis.optvis import params as P
from stochvis.stats.curve_density import collect_curve_density
from stochvis.stats.quantiles import collect_quantiles

LAYERS = ["conv1", "conv2", "conv3"]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: a second intra-op thread only adds synchronisation on a busy 2-core machine
    (as tests/conftest.py does for tests/optvis)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _mean_distance(model, images, curves) -> torch.Tensor:
    return torch.stack(list(distances(model, images, curves).values())).mean(0)


def test_vital_brings_the_distributions_close_to_a_real_images(tiny_model, tiny_images):
    curves = collect_quantiles(tiny_model, tiny_images[:1], LAYERS, quantiles=32)
    result = vital(tiny_model, curves, steps=30, seed=0, param="pixels")
    start = _mean_distance(tiny_model, P.pixel(1, 16, seed=0)().detach(), curves)
    end = _mean_distance(tiny_model, result.images, curves)
    assert result.images.shape == (1, 3, 16, 16) and result.history.shape == (30, 1)
    assert end < start / 10  # measured: 0.37 → 0.012 (×31) with 1 px jitter
    assert result.history[-1] > result.history[0]
    assert "Jitter" in " ".join(result.settings["regularizers"]) and "logits" not in result.objective
    fourier = vital(tiny_model, curves, steps=30, lr=0.1)  # the default parameterisation
    assert _mean_distance(tiny_model, fourier.images, curves) < start / 5  # measured ×13


def test_one_batch_holds_several_classes(tiny_model, tiny_images):
    a = collect_quantiles(tiny_model, tiny_images[:1], LAYERS, quantiles=16)
    b = collect_quantiles(tiny_model, torch.full((1, 3, 16, 16), 0.8), LAYERS, quantiles=16)
    targets = class_targets([a, b], per_class=2)
    assert targets["conv3"].shape == (4, 16, 16)
    result = vital(tiny_model, targets, steps=30, jitter=0)
    assert result.images.shape[0] == 4
    to_a, to_b = _mean_distance(tiny_model, result.images, a), _mean_distance(tiny_model, result.images, b)
    assert (to_a[:2] < to_b[:2]).all() and (to_b[2:] < to_a[2:]).all()
    with pytest.raises(ValueError, match="batch=3 but the targets hold one curve set per image for 4"):
        vital(tiny_model, targets, steps=1, batch=3)
    with pytest.raises(ValueError, match="same layers"):
        class_targets([a, {"conv1": a["conv1"]}])


def test_drawn_targets_give_each_image_a_target_of_its_own_class(tiny_model, tiny_images):
    dark = collect_curve_density(tiny_model, tiny_images * 0.3, LAYERS, quantiles=8)
    bright = collect_curve_density(tiny_model, 0.7 + tiny_images * 0.3, LAYERS, quantiles=8)
    targets = drawn_targets([dark, bright], per_class=3, seed=2)
    assert list(targets) == LAYERS and targets["conv3"].shape == (6, 16, 8)
    assert not torch.allclose(targets["conv1"][0], targets["conv1"][1])  # a draw each, not one shared mean
    # each image's target is nearer its own class's mean than the other's
    for i, (own, other) in enumerate([(dark, bright)] * 3 + [(bright, dark)] * 3):
        near = (targets["conv1"][i] - own.mean_curves["conv1"]).pow(2).mean()
        assert near < (targets["conv1"][i] - other.mean_curves["conv1"]).pow(2).mean(), i
    assert torch.equal(drawn_targets([dark, bright], 3, seed=2)["conv3"], targets["conv3"])
    assert list(drawn_targets([dark], layers=["conv3"])) == ["conv3"]
    result = vital(tiny_model, targets, steps=2)
    assert result.images.shape == (6, 3, 16, 16)
    with pytest.raises(ValueError, match="no curves for layers \\['conv9'\\]"):
        drawn_targets([dark], layers=["conv9"])
    with pytest.raises(ValueError, match="at least one class"):
        drawn_targets([])
    # one temperature per class: 0 gives that class its mean curves, the other still draws
    mixed = drawn_targets([dark, bright], per_class=2, seed=2, temperature=[0.0, 1.0])
    torch.testing.assert_close(mixed["conv1"][0], dark.mean_curves["conv1"].sort(dim=-1).values)
    assert not torch.allclose(mixed["conv1"][2], mixed["conv1"][3])
    with pytest.raises(ValueError, match="one per class: 3 for 2 classes"):
        drawn_targets([dark, bright], temperature=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="a number ≥ 0 or one per class"):
        drawn_targets([dark, bright], temperature="hot")


def test_the_term_adds_to_an_inversion_target_of_a_deeper_layer(tiny_model, tiny_images):
    shallow = collect_quantiles(tiny_model, tiny_images[:1], ["conv1", "conv2"], quantiles=16)
    layout = reconstruction_loss("conv3", activations_of(tiny_model, tiny_images[:1], "conv3")["conv3/map"])
    both = match_distributions(tiny_model, shallow, extra_objective=layout, strength=2.0, steps=25, jitter=0)
    assert "sorted_match(conv1, conv2)" in both.objective and "conv3" in both.objective
    alone = match_distributions(tiny_model, shallow, strength=0.0, extra_objective=layout, steps=25, jitter=0)
    matched = _mean_distance(tiny_model, both.images, shallow)
    assert matched < _mean_distance(tiny_model, alone.images, shallow)
    assert both.history[-1] > both.history[0]


def test_extra_regularizers_add_to_the_default_jitter_and_the_colour_penalty_pulls_colours(tiny_model, tiny_images):
    from stochvis.optvis import regularizers as R

    curves = collect_quantiles(tiny_model, tiny_images[:1], ["conv1"], quantiles=8)
    colourful = torch.zeros(1, 3, 16, 16)
    colourful[:, 0, :, :8], colourful[:, 2, :, 8:] = 1.0, 1.0  # half red, half blue
    penalty = R.ColourQuantiles(4.0, R.colour_curves(colourful, 8))
    plain = match_distributions(tiny_model, curves, steps=30, seed=0)
    coloured = match_distributions(tiny_model, curves, steps=30, seed=0, extra_regularizers=[penalty])
    assert len(plain.settings["regularizers"]) == 1 and plain.settings["regularizers"][0].startswith("Jitter")
    assert coloured.settings["regularizers"][:-1] == plain.settings["regularizers"]
    assert coloured.settings["regularizers"][-1].startswith("ColourQuantiles")
    assert float(penalty(coloured.images)) < 0.5 * float(penalty(plain.images))


def test_bad_settings_say_what_is_valid(tiny_model, tiny_images):
    curves = collect_quantiles(tiny_model, tiny_images[:1], ["conv1"], quantiles=8)
    with pytest.raises(ValueError, match="use one of fft, pixels"):
        vital(tiny_model, curves, steps=1, param="pixles")
    with pytest.raises(ValueError, match="curves_by_layer must map layers"):
        vital(tiny_model, {}, steps=1)
    with pytest.raises(ValueError, match="use match_distributions"):
        vital(tiny_model, curves, steps=1, extra_objective=reconstruction_loss("conv1", torch.ones(1, 8 * 16 * 16)))
    with pytest.raises(ValueError, match="nothing to optimise"):
        match_distributions(tiny_model, curves, strength=0.0, steps=1)
    with pytest.raises(ValueError, match="Fourier parameterisation cannot"):
        vital(tiny_model, curves, steps=1, param="fft", init=tiny_images[:1])
    with pytest.raises(KeyError, match="no layer 'conv7'"):
        vital(tiny_model, {"conv7": curves["conv1"]}, steps=1)
