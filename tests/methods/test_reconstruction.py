"""Feature inversion, stochastic deconvolution and the statistics prior, on the tiny net."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from stochvis import features
from stochvis import stats as S
from stochvis.methods import class_prior, deconvolution, inversion
from stochvis.optvis import objectives as O
from stochvis.optvis.optimize import optimize


def smooth_images(n: int, seed: int, size: int = 16, colour: tuple[float, float, float] | None = None,
                  stripes: str | None = None) -> torch.Tensor:
    """Natural-ish test images: upsampled coarse noise (so image priors do not fight the target),
    optionally tinted and striped to make a separable toy class."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=generator)
    images = F.interpolate(coarse, size=size, mode="bilinear", align_corners=False)
    if colour is not None:
        images = 0.4 * images + 0.6 * torch.tensor(colour).view(1, 3, 1, 1)
    if stripes is not None:
        wave = 0.2 * torch.sin(torch.arange(size) * math.pi / 2)
        images = images + (wave.view(1, 1, size, 1) if stripes == "horizontal" else wave.view(1, 1, 1, size))
    return images.clamp(0, 1)


# B and V of the Mahendran & Vedaldi priors are calibrated for photos; a 16-px image has far larger
# pixel gradients, so the tests use a milder TV and no jitter (a 1-px shift is a large move at 16 px).
MILD_PRIORS = inversion.image_priors(16, tv=0.005, alpha_norm=0.01, jitter=0)


@pytest.fixture(scope="module")
def toy_classes():
    """Two separable classes on the tiny net: reddish horizontal stripes vs bluish vertical stripes."""
    from conftest import make_tiny

    model = make_tiny()
    red = smooth_images(48, 1, colour=(0.9, 0.3, 0.2), stripes="horizontal")
    blue = smooth_images(48, 2, colour=(0.2, 0.3, 0.9), stripes="vertical")
    options = dict(pooled=True, maps=["conv3"], full_dim_limit=256, projection_dim=32, joint="consecutive",
                   progress=False)
    per_class = {name: S.collect(model, images, ["conv2", "conv3"], class_name=name, **options)
                 for name, images in [("red", red), ("blue", blue)]}
    return model, per_class, {"red": red, "blue": blue}


def test_inversion_of_a_map_brings_the_normalised_error_down(tiny_model):
    images = smooth_images(2, 0)
    targets = inversion.activations_of(tiny_model, images, "conv2")
    grey = torch.full_like(images, 0.5)
    start = inversion.normalised_errors(tiny_model, grey, targets)["conv2/map"]
    result = inversion.invert(tiny_model, targets, regularizers=MILD_PRIORS, steps=150, lr=0.05, size=16)
    assert start.min() > 0.3
    assert result.errors["conv2/map"].max() < 0.05, result.errors
    assert result.images.shape == images.shape
    assert result.seconds_per_image > 0


def test_inversion_of_pooled_and_projected_targets(toy_classes):
    model, per_class, images = toy_classes
    stats = per_class["red"]
    assert features.feature("conv3/map", stats).kind == "projected"  # 1024 values > full_dim_limit
    targets = inversion.activations_of(model, images["red"][:2], ["conv3/pooled", "conv3/map"], stats=stats)
    assert targets["conv3/map"].shape == (2, 32)
    result = inversion.invert(model, targets, stats=stats, regularizers=[], steps=80, lr=0.05)
    for key, error in result.errors.items():
        assert error.max() < 0.05, (key, error)


def test_wrong_target_size_names_the_valid_sizes(tiny_model):
    with pytest.raises(ValueError, match="one value per channel"):
        inversion.invert(tiny_model, "conv2", torch.ones(1, 5), steps=1, size=16)


def test_stochastic_deconvolution_gives_different_images_of_their_own_class(toy_classes):
    model, per_class, _ = toy_classes
    densities = {name: stats.density("conv3/pooled") for name, stats in per_class.items()}
    for name, stats in per_class.items():
        result = deconvolution.stochastic_deconvolution(model, stats, "conv3", n=3, seed=5, steps=80, lr=0.05,
                                             regularizers=MILD_PRIORS)
        images = result.images
        differences = [(images[i] - images[j]).abs().mean().item() for i in range(3) for j in range(i + 1, 3)]
        assert min(differences) > 0.01, differences
        # the images differ because the samples do: on average an image is nearer its own sample than the others
        vectors = stats.vectors(model, images)["conv3/pooled"]
        distances = torch.cdist(vectors, result.targets["conv3/pooled"].double())
        off_diagonal = distances[~torch.eye(3, dtype=torch.bool)]
        assert distances.diagonal().mean() < off_diagonal.mean(), distances
        own = densities[name].score_samples(vectors)
        other = densities["blue" if name == "red" else "red"].score_samples(vectors)
        assert (own > other).all(), (name, own, other)


def test_backward_chain_samples_each_layer_and_inverts_against_all(toy_classes):
    model, per_class, _ = toy_classes
    stats = per_class["blue"]
    targets = deconvolution.sample_targets(stats, ["conv3", "conv2"], 2, seed=0)
    assert set(targets) == {"conv3/pooled", "conv2/pooled"}
    assert all((t >= stats[k].minimum.float() - 1e-6).all() for k, t in targets.items())  # clipped to the range
    result = deconvolution.stochastic_deconvolution(model, stats, ["conv3", "conv2"], n=2, seed=0, steps=80, lr=0.05,
                                         regularizers=MILD_PRIORS)
    assert set(result.errors) == {"conv3/pooled", "conv2/pooled"}
    assert result.error.max() < 0.1, result.errors
    assert not torch.equal(result.targets["conv2/pooled"][0], result.targets["conv2/pooled"][1])


@pytest.mark.parametrize("terms, measure", [("outliers", "excess"), ("nll", "mahalanobis_per_dim")])
def test_statistics_prior_lowers_the_outlier_score_it_targets(toy_classes, terms, measure):
    model, per_class, _ = toy_classes
    stats = per_class["red"]
    objective = O.channel("conv3", 3)
    common = dict(steps=60, lr=0.05, size=16, batch=2, seed=0, progress=False)
    plain = optimize(model, objective, **common)
    prior = optimize(model, objective + class_prior.statistics_prior(stats, "conv2", 5.0, terms=terms), **common)
    before = class_prior.outlier_summary(stats, model, plain.images, "conv2")["conv2/pooled"][measure]
    after = class_prior.outlier_summary(stats, model, prior.images, "conv2")["conv2/pooled"][measure]
    assert before.min() > (0 if terms == "outliers" else 1.5), before  # plain AM makes outliers to remove
    assert (after < 0.5 * before).all(), (before, after)


def test_nan_target_is_refused_with_a_clear_error(tiny_model):
    target = inversion.activations_of(tiny_model, smooth_images(1, 0), "conv2")["conv2/map"]
    target[0, 3] = float("nan")
    with pytest.raises(ValueError, match="conv2/map.*NaN"):
        inversion.invert(tiny_model, "conv2/map", target, steps=1, size=16)
    with pytest.raises(ValueError, match="all zeros"):
        inversion.invert(tiny_model, "conv2/map", torch.zeros_like(target), steps=1, size=16)


def test_nan_statistics_are_refused_with_a_clear_error(toy_classes):
    model, per_class, _ = toy_classes
    poisoned = S.Statistics({k: v.copy() for k, v in per_class["red"].features.items()},
                                     dict(per_class["red"].meta))
    poisoned["conv2/pooled"].mean[0] = float("nan")
    with pytest.raises(ValueError, match="red.*conv2/pooled.*non-finite"):
        deconvolution.sample_targets(poisoned, "conv2", 2)
    with pytest.raises(ValueError, match="non-finite"):
        class_prior.statistics_prior(poisoned, "conv2")
    with pytest.raises(ValueError, match="non-finite"):
        deconvolution.sample_targets(poisoned, ["conv3", "conv2"], 2)


def test_reconstruction_panel_renders_a_figure(toy_classes):
    from stochvis.viz.widgets import reconstruction_panel

    model, per_class, _ = toy_classes
    panel = reconstruction_panel(model, per_class, layers=["conv3", "conv2"], prior_features=["conv2"],
                                 am_objective=lambda name: O.channel("conv3", 0), steps=3, samples=2)
    panel.controls["strength"].value = 1.0
    panel.render()
    panel.controls["mode"].value = "AM + prior"
    panel.render()
    assert panel.renders == 2 and panel.image.value[:4] == b"\x89PNG"
    assert panel.result is not None
