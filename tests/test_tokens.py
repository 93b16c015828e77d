"""The token rule on a tiny torchvision ViT: channel = hidden unit, positions = patch tokens on their grid, the class
token excluded from every spatial reading (objectives, statistics, grids)."""

from __future__ import annotations

import pytest
import torch

from stochvis import tokens
from stochvis.layers import capture, check_channel, list_layers
from stochvis.optvis import objectives as O
from stochvis.stats.collection import collect
from stochvis.testing import tiny_vit

BLOCK = "encoder.layers.encoder_layer_1"


@pytest.fixture(scope="module")
def vit():
    return tiny_vit()


def test_the_shape_rule_for_prefix_tokens_and_grids():
    assert tokens.prefix_count(50) == 1 and tokens.prefix_count(197) == 1  # 7×7 / 14×14 patches + a class token
    assert tokens.prefix_count(196) == 0 and tokens.prefix_count(16) == 0
    assert tokens.patch_grid(49) == (7, 7) and tokens.patch_grid(12) == (3, 4)
    assert tokens.channel_count((17, 32)) == 32 and tokens.channel_count((8, 4, 4)) == 8
    assert tokens.map_shape((17, 32)) == (32, 4, 4) and tokens.map_shape((8, 4, 4)) == (8, 4, 4)
    act = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)  # 1 class token + 2×2 patches, 3 units
    grid = tokens.as_map(act)
    assert grid.shape == (2, 3, 2, 2)
    assert torch.equal(grid[:, :, 0, 1], act[:, 2])  # row 0, column 1 = the second patch token (token 2)
    assert torch.equal(tokens.pooled(act), act[:, 1:].mean(1))  # the class token (token 0) is left out
    four_d = torch.rand(2, 3, 4, 4)
    assert tokens.as_map(four_d) is four_d and torch.equal(tokens.pooled(four_d), four_d.mean((2, 3)))


def test_the_vit_declares_its_class_token_and_grid(vit):
    assert (vit.token_prefix, vit.token_grid) == (1, (4, 4))
    shape = next(info for info in list_layers(vit) if info.name == BLOCK).shape
    assert shape == (17, 32)
    assert next(info for info in list_layers(vit) if info.name == BLOCK).channels == 32  # hidden units, not tokens


def test_channels_are_hidden_units(vit):
    assert check_channel(vit, BLOCK, 31) == 31
    with pytest.raises(IndexError, match=r"channels 0\.\.31"):
        check_channel(vit, BLOCK, 32)  # 17 tokens would have allowed 0..16; 32 hidden units allow 0..31
    with pytest.raises(IndexError, match=r"channels 0\.\.31"):
        O.channel(BLOCK, 40).bind(vit)


def test_channel_and_neuron_objectives_read_patch_tokens_only(vit):
    images = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    act = capture(vit, images, [BLOCK])[BLOCK]
    expected = act[:, 1:, 5].mean(1)  # hidden unit 5 averaged over the 16 patch tokens, class token excluded
    for objective in (O.channel(BLOCK, 5), O.as_objective((BLOCK, 5)), O.as_objective(f"{BLOCK}:5")):
        assert torch.allclose(O.evaluate(vit, objective, images), expected)
    # (layer, unit, y, x): the patch token in row y, column x of the 4×4 grid = token 1 + 4·y + x
    assert torch.allclose(O.evaluate(vit, O.as_objective((BLOCK, 5, 2, 3)), images), act[:, 1 + 4 * 2 + 3, 5])
    assert torch.allclose(O.evaluate(vit, O.neuron(BLOCK, 5, 0, 1), images), act[:, 2, 5])
    with pytest.raises(IndexError, match="out of range"):
        O.evaluate(vit, O.as_objective((BLOCK, 5, 4, 0)), images)


def test_pooled_and_grid_statistics_of_a_token_layer(vit):
    images = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    act = capture(vit, images, [BLOCK])[BLOCK].double()
    stats = collect(vit, images, [BLOCK], maps=[f"{BLOCK}/grid2"], progress=False)
    assert stats[f"{BLOCK}/pooled"].dim == 32  # one mean per hidden unit
    assert torch.allclose(stats[f"{BLOCK}/pooled"].mean.double(), act[:, 1:].mean(1).mean(0), atol=1e-5)
    assert stats[f"{BLOCK}/grid2"].dim == 32 * 4
