"""The sort-matching objective (stochvis.optvis.distribution_matching): exactly zero at an image whose
own curves are the targets and negative elsewhere, per image, scale-free per layer, differentiable,
and it declares every layer it reads."""

from __future__ import annotations

import pytest
import torch

from stochvis.layers import capture
from stochvis.optvis import regularizers as R
from stochvis.optvis.distribution_matching import (
    channel_curves,
    distribution_distances,
    quantile_levels,
    sorted_match,
    stack_curves,
)
from stochvis.optvis.optimize import optimize

LAYERS = ["conv1", "conv2", "conv3"]


def _own_curves(model, images, quantiles=32):
    with torch.no_grad():
        acts = capture(model, images, LAYERS)
    return {layer: channel_curves(acts[layer], quantiles) for layer in LAYERS}


def test_curves_are_exact_sorted_values_at_q_positions_and_flat_for_a_constant():
    maps = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(channel_curves(maps, 20), maps.flatten(2).sort(2).values)
    assert torch.equal(channel_curves(torch.full((1, 2, 3, 3), -1.5), 7), torch.full((1, 2, 7), -1.5))
    tokens = torch.randn(2, 6, 4)
    assert channel_curves(tokens, 6).shape == (2, 4, 6)
    torch.testing.assert_close(quantile_levels(4), torch.tensor([0.125, 0.375, 0.625, 0.875], dtype=torch.float64))


def test_zero_at_its_own_curves_negative_elsewhere_and_per_image(tiny_model, tiny_images):
    own = _own_curves(tiny_model, tiny_images)
    objective = sorted_match(own).bind(tiny_model)
    assert objective.layers == set(LAYERS)
    acts = capture(tiny_model, tiny_images, LAYERS)
    assert torch.equal(objective(acts), torch.zeros(4))
    shared = sorted_match({layer: curves[0] for layer, curves in own.items()}).bind(tiny_model)
    scores = shared(acts)
    assert scores[0] == 0 and (scores[1:] < 0).all()
    swapped = sorted_match({layer: curves.flip(0) for layer, curves in own.items()}).bind(tiny_model)
    assert (swapped(acts) < 0).all()


def test_distance_is_normalised_by_the_targets_scale_and_weighted():
    target = torch.linspace(1, 2, 8).expand(3, 8)
    zero = {"a": torch.zeros(2, 3, 4, 4)}
    assert torch.equal(sorted_match({"a": target})(zero), -torch.ones(2))  # an all-zero activation is at 1
    act = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    small = sorted_match({"a": target})({"a": act})
    large = sorted_match({"a": 100 * target})({"a": 100 * act})
    torch.testing.assert_close(small, large)  # layers of different magnitudes weigh alike
    both = {"a": target, "b": 5 * target}
    acts = {"a": act, "b": torch.zeros(2, 3, 2, 2)}
    weighted = sorted_match(both, {"b": 3.0})(acts)
    torch.testing.assert_close(weighted, (small + 3 * -1.0) / 4)
    torch.testing.assert_close(sorted_match(both, [1.0, 3.0])(acts), weighted)


def test_gradient_flows_to_the_image(tiny_model, tiny_images):
    target = {layer: curves[0] for layer, curves in _own_curves(tiny_model, tiny_images[:1]).items()}
    objective = sorted_match(target).bind(tiny_model)
    images = tiny_images[1:3].clone().requires_grad_(True)
    objective(capture(tiny_model, images, LAYERS)).sum().backward()
    assert torch.isfinite(images.grad).all() and images.grad.abs().sum(dim=(1, 2, 3)).min() > 0


def test_per_image_targets_survive_multi_copy_transforms_in_the_loop(tiny_model, tiny_images):
    own = _own_curves(tiny_model, tiny_images[:2], quantiles=16)
    targets = {layer: stack_curves([curves[1], curves[0]]) for layer, curves in own.items()}
    result = optimize(tiny_model, sorted_match(targets), "pixel", [R.random_crops(2, (0.9, 0.9))], batch=2,
                      size=16, steps=2, progress=False)
    assert result.history.shape == (2, 2) and (result.history <= 0).all()
    distances = distribution_distances(tiny_model, tiny_images[:2], targets)
    assert set(distances) == set(LAYERS) and all((d > 0).all() for d in distances.values())


def test_bad_targets_say_what_is_valid(tiny_model, tiny_images):
    own = _own_curves(tiny_model, tiny_images)
    with pytest.raises(ValueError, match="needs target curves by layer"):
        sorted_match({})
    with pytest.raises(ValueError, match="not ascending.*transposed"):
        sorted_match({"conv1": own["conv1"][0].T.flip(0)})
    with pytest.raises(ValueError, match=r"\(C, Q\) or one per image \(N, C, Q\) with Q ≥ 2"):
        sorted_match({"conv1": torch.zeros(8)})
    with pytest.raises(ValueError, match="NaN or Inf"):
        sorted_match({"conv1": torch.full((8, 4), float("nan"))})
    with pytest.raises(ValueError, match="all zeros"):
        sorted_match({"conv1": torch.zeros(8, 4)})
    with pytest.raises(ValueError, match="conv1' has 8 channels but its target curves have 16"):
        sorted_match({"conv1": own["conv3"][0]}).bind(tiny_model)
    with pytest.raises(KeyError, match="closest"):
        sorted_match({"conv_1": own["conv1"][0]}).bind(tiny_model)
    with pytest.raises(ValueError, match="4 per-image targets for a batch of 2"):
        sorted_match({"conv1": own["conv1"]})(capture(tiny_model, tiny_images[:2], ["conv1"]))
    with pytest.raises(ValueError, match="weights for layers without target curves"):
        sorted_match({"conv1": own["conv1"][0]}, {"conv2": 1.0})
    with pytest.raises(ValueError, match="≥ 0 and not all zero"):
        sorted_match({"conv1": own["conv1"][0]}, [0.0])
