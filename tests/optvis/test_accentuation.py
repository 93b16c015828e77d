"""Feature accentuation (Hamblin et al. 2024): the anchor is exactly zero at the seed and grows with
the distance from it, and the recipe starts at the seed and stays nearer to it than free ascent."""

from __future__ import annotations

import pytest
import torch

from stochvis.layers import capture
from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.optvis import presets
from stochvis.optvis.accentuation import activation_anchor


def test_anchor_is_zero_at_the_seed_and_a_relative_distance_away(tiny_model, tiny_images):
    seeds = tiny_images[:2]
    anchor = activation_anchor(tiny_model, "conv2", seeds, weight=2.0).bind(tiny_model)
    assert anchor.layers == {"conv2"}
    assert torch.equal(anchor(capture(tiny_model, seeds, ["conv2"])), torch.zeros(2))
    moved = (seeds + 0.1 * torch.randn(seeds.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    value = anchor(capture(tiny_model, moved, ["conv2"]))
    with torch.no_grad():
        act, ref = (capture(tiny_model, x, ["conv2"])["conv2"].flatten(1) for x in (moved, seeds))
    expected = -2.0 * (act - ref).norm(dim=1) / ref.norm(dim=1)
    assert (value < 0).all()
    torch.testing.assert_close(value, expected)
    with pytest.raises(ValueError, match="as many images as seeds"):
        anchor(capture(tiny_model, tiny_images, ["conv2"]))
    with pytest.raises(KeyError):
        activation_anchor(tiny_model, "conv_2", seeds)


def test_accentuate_starts_at_the_seed_and_the_anchor_holds_it(tiny_model, tiny_images):
    seeds, unit = tiny_images[:2], O.channel("conv3", 1)
    free = presets.accentuate(tiny_model, unit, seeds, layer="conv2", weight=0.0, steps=12, lr=0.03, progress=False)
    held = presets.accentuate(tiny_model, unit, seeds, layer="conv2", weight=5.0, steps=12, lr=0.03, progress=False)
    rendered = P.pixel(2, 16, init=seeds)().detach()
    # step 0 is the seed and the anchor adds exactly nothing there
    assert torch.equal(held.history[0], O.evaluate(tiny_model, unit, rendered))
    assert held.objective.startswith("conv3:1 + anchor(conv2")

    def drift(images):
        with torch.no_grad():
            act, ref = (capture(tiny_model, x, ["conv2"])["conv2"].flatten(1) for x in (images, rendered))
        return ((act - ref).norm(dim=1) / ref.norm(dim=1))

    assert (drift(held.images) < drift(free.images)).all()
    assert (O.evaluate(tiny_model, unit, held.images) > O.evaluate(tiny_model, unit, rendered)).all()
    with pytest.raises(ValueError, match="seed_images"):
        presets.config("hamblin2024", unit, model=tiny_model)
    with pytest.raises(ValueError, match="name the layer"):
        presets.config("hamblin2024", unit + O.channel("conv1", 0), model=tiny_model, seed_images=seeds)
