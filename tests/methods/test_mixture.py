"""Mixture: top-K channel selection finds planted channels; the objective drives them."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stochvis.methods import channel_groups
from stochvis.models import wrap_model
from stochvis.optvis.optimize import optimize

RED, ALSO_RED = 3, 6


class PlantedNet(nn.Module):
    """1×1 colour detectors: channels 3 and 6 fire on red (R − (G + B)/2, alive at grey so ascent can start); the others on mixtures
    that red images do not excite more than random colours do. Layer two copies channel 3 into
    its channel 1 and mixes the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.detect = nn.Conv2d(3, 8, 1)
        self.relu1 = nn.ReLU()
        self.combine = nn.Conv2d(8, 4, 1)
        self.relu2 = nn.ReLU()
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            weights = torch.randn(8, 3, generator=generator) * 0.1
            weights[:, 0] = -0.2  # every other channel dislikes red
            weights[RED] = weights[ALSO_RED] = torch.tensor([1.0, -0.5, -0.5])
            self.detect.weight.copy_(weights.view(8, 3, 1, 1))
            self.detect.bias.fill_(0.1)
            combine = torch.rand(4, 8, generator=generator) * 0.05
            combine[:, RED] = 0.0
            combine[1] = 0.0
            combine[1, RED] = 1.0
            self.combine.weight.copy_(combine.view(4, 8, 1, 1))
            self.combine.bias.zero_()

    def forward(self, x):
        return self.relu2(self.combine(self.relu1(self.detect(x)))).mean((2, 3))


@pytest.fixture
def planted():
    return wrap_model(PlantedNet(), mean=(0.0,) * 3, std=(1.0,) * 3, input_size=(8, 8), name="planted",
                      aliases={"low": "relu1", "high": "relu2"}, device="cpu")


def groups():
    generator = torch.Generator().manual_seed(0)
    red = torch.rand(12, 3, 8, 8, generator=generator) * 0.2
    red[:, 0] += 0.75
    reference = torch.rand(24, 3, 8, 8, generator=generator)
    return red, reference


def test_top_k_picks_the_planted_channels(planted):
    red, reference = groups()
    ranking = channel_groups.rank_channels(planted, red, reference, ["low", "high"])
    top = ranking.top({"low": 2, "high": 1})
    assert set(top["low"].tolist()) == {RED, ALSO_RED}
    assert top["high"].tolist() == [1]
    rows = channel_groups.selection_table(ranking, 2)
    assert {r["channel"] for r in rows if r["layer"] == "low"} == {RED, ALSO_RED}
    for kind in ("difference", "group"):  # the plain "most activated" finds them too here
        assert set(channel_groups.rank_channels(planted, red, reference, ["low"], score=kind).top(2)["low"].tolist()) == {RED, ALSO_RED}


def test_mixture_objective_drives_the_selected_channels(planted):
    red, reference = groups()
    ranking = channel_groups.rank_channels(planted, red, reference, ["low", "high"])
    objective = channel_groups.mixture_objective(ranking, k={"low": 2, "high": 1}, weights={"low": 1.0, "high": 0.5})
    assert objective.layers == {"low", "high"}
    result = optimize(planted, objective, "pixel", steps=30, lr=0.1, progress=False)
    assert result.history[-1].item() > result.history[0].item() + 0.5
    image = result.images[0]
    assert image[0].mean() > image[1].mean() + 0.2 and image[0].mean() > image[2].mean() + 0.2  # it turned red


def test_bad_mixture_arguments_are_clear(planted):
    red, reference = groups()
    ranking = channel_groups.rank_channels(planted, red, reference, ["low"])
    with pytest.raises(ValueError, match="k=9 for layer 'low', which has 8 channels"):
        ranking.top(9)
    with pytest.raises(KeyError, match="not ranked"):
        channel_groups.mixture_objective(ranking, 2, weights={"high": 1.0})
    with pytest.raises(KeyError, match="no layer 'lo'"):
        channel_groups.rank_channels(planted, red, reference, ["lo"])
    with pytest.raises(ValueError, match="no channel selected"):
        channel_groups.mixture_objective(ranking, 2, weights={"low": 0.0})
