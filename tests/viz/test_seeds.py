"""Panels that optimise or sample show the seed they used, and "new sample" draws a new one and runs again."""

from __future__ import annotations

import torch

from stochvis.viz import widgets
from stochvis.viz.seeds import SeedControl


def test_the_seed_control_draws_new_seeds():
    control = SeedControl(7)
    assert control.value == 7
    calls = []
    control.on_new(lambda: calls.append(control.value))
    control.button.click()
    control.button.click()
    assert len(calls) == 2 and calls[0] != 7 and calls[0] != calls[1]  # two draws from 2³¹ seeds


def test_the_maximisation_panel_runs_with_the_seed_it_shows(tiny_model):
    panel = widgets.maximization_panel(tiny_model, size=16, steps=2)
    panel.controls["seed"].value = 3
    panel.render()
    first = panel.result.images.clone()
    assert panel.result.settings["seed"] == 3 and panel.controls["status"].value.startswith("seed 3:")
    panel.render()
    assert torch.equal(panel.result.images, first)  # the same seed: the same picture
    panel.controls["new_sample"].click()
    new = panel.controls["seed"].value
    assert new != 3 and panel.renders == 3 and panel.result.settings["seed"] == new


def test_the_mixture_and_generator_panels_have_seed_controls(tiny_model):
    from torch import nn

    from stochvis.methods.generator_prior import GeneratorPrior

    generator = nn.Sequential(nn.Linear(4, 3 * 16 * 16), nn.Sigmoid(), nn.Unflatten(1, (3, 16, 16)))
    prior = GeneratorPrior(generator, (4,), channels=3, size=(16, 16), box="symmetric")
    panel = widgets.generator_panel(tiny_model, prior, {"class 0": 0}, steps=1, batch=1)
    panel.controls["seed"].value = 11
    panel.render()
    assert panel.result.settings["seed"] == 11
    panel.controls["new_sample"].click()
    assert panel.result.settings["seed"] == panel.controls["seed"].value != 11
