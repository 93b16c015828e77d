"""Per-channel quantile curves (stochvis.stats.quantiles): flat for a constant map, exact when Q is the
number of positions, comparable across sizes, exactly mergeable, tied to the model's weights on disk."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import make_tiny

from stochvis.layers import capture
from stochvis.stats.moments import StatisticsFileError
from stochvis.stats.quantiles import (
    ChannelQuantiles,
    collect_quantiles,
    image_curves,
    load_quantiles,
    mean_curves,
    save_quantiles,
)

LAYERS = ["conv1", "conv3"]


def test_a_constant_map_has_a_flat_curve_and_levels_are_midpoints():
    item = ChannelQuantiles("conv1", quantiles=8).update(torch.full((2, 3, 5, 4), 2.5))
    assert item.count == 2 and item.channels == 3 and item.sizes == [[5, 4]]
    assert torch.equal(item.curves, torch.full((3, 8), 2.5))
    assert item.total.dtype == torch.float64
    torch.testing.assert_close(item.levels, (torch.arange(8, dtype=torch.float64) + 0.5) / 8)


def test_the_curve_is_the_sorted_map_when_q_is_the_number_of_positions_and_the_mean_over_images():
    maps = torch.randn(3, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    item = ChannelQuantiles("x", quantiles=16).update(maps)
    expected = maps.flatten(2).sort(2).values.double().mean(0).float()
    torch.testing.assert_close(item.curves, expected)
    assert (item.curves.diff(dim=1) >= 0).all()


def test_images_of_different_sizes_give_comparable_curves():
    maps = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    small = ChannelQuantiles("x", 32).update(maps).curves
    large = ChannelQuantiles("x", 32).update(F.interpolate(maps, scale_factor=3, mode="nearest")).curves
    assert (small - large).abs().max() < 0.05  # the same distribution, 64 vs 576 positions


def test_token_layers_have_their_channels_last():
    tokens = torch.arange(2 * 5 * 3, dtype=torch.float32).reshape(2, 5, 3)
    item = ChannelQuantiles("blocks.0", quantiles=5).update(tokens)
    assert item.channels == 3 and item.sizes == [[5]]
    torch.testing.assert_close(item.curves[0], tokens[..., 0].mean(0))


def test_merging_two_halves_equals_one_pass(tiny_model, tiny_images):
    whole = collect_quantiles(tiny_model, tiny_images, LAYERS, quantiles=32, batch_size=3)
    first = collect_quantiles(tiny_model, tiny_images[:2], LAYERS, quantiles=32)
    second = collect_quantiles(tiny_model, [tiny_images[2], tiny_images[3:]], LAYERS, quantiles=32)
    for layer in LAYERS:
        merged = first[layer].merge(second[layer])
        assert merged.count == whole[layer].count == 4
        # the model's float32 convolutions differ in the last bits between batch sizes; the sums do not
        torch.testing.assert_close(merged.total, whole[layer].total, rtol=1e-5, atol=1e-6)
        assert merged.fingerprint == tiny_model.fingerprint
    acts = capture(tiny_model, tiny_images, ["conv3"])["conv3"].detach()
    halves = ChannelQuantiles("conv3", 32).update(acts[:1]).merge(ChannelQuantiles("conv3", 32).update(acts[1:]))
    torch.testing.assert_close(halves.total, ChannelQuantiles("conv3", 32).update(acts).total, rtol=1e-14, atol=0)
    assert whole["conv3"].curves.shape == (16, 32) and acts.shape[1:] == (16, 8, 8)  # 64 positions → 32 levels
    with pytest.raises(ValueError, match="same layer"):
        whole["conv1"].merge(whole["conv3"])
    other = collect_quantiles(make_tiny(seed=3), tiny_images[:1], ["conv1"], quantiles=32)["conv1"]
    with pytest.raises(ValueError, match="different model weights"):
        whole["conv1"].merge(other)


def test_the_mean_of_each_images_curves_is_one_pass_of_collect_quantiles(tiny_model, tiny_images):
    per_image = image_curves(tiny_model, tiny_images, LAYERS, quantiles=16, batch_size=3)
    collected = collect_quantiles(tiny_model, tiny_images, LAYERS, quantiles=16, batch_size=3)
    means = mean_curves(per_image)
    for layer in LAYERS:  # the same forward batches, the same float64 sums: the same curves to the bit
        assert per_image[layer].shape[0] == 4 and torch.equal(means[layer], collected[layer].curves)
    assert not torch.equal(means["conv1"], per_image["conv1"][0])
    with pytest.raises(ValueError, match="needs per-image curves"):
        mean_curves({})
    with pytest.raises(ValueError, match=r"must be \(N ≥ 1, C, Q\)"):
        mean_curves({"conv1": per_image["conv1"][0]})


def test_save_load_round_trip_and_refusal_of_another_models_file(tiny_model, tiny_images, tmp_path):
    curves = collect_quantiles(tiny_model, tiny_images, LAYERS, quantiles=16)
    path = save_quantiles(tmp_path / "q.safetensors", curves)
    loaded = load_quantiles(path, tiny_model)
    assert list(loaded) == LAYERS
    for layer in LAYERS:
        assert torch.equal(loaded[layer].total, curves[layer].total) and loaded[layer].count == 4
        assert loaded[layer].quantiles == 16 and loaded[layer].fingerprint == tiny_model.fingerprint
    other = make_tiny(seed=1)
    with pytest.raises(ValueError, match="collected with .* weights .* collect them again"):
        load_quantiles(path, other)
    assert list(load_quantiles(path, other, allow_other_model=True)) == LAYERS
    with pytest.raises(ValueError, match="not .*'s"):
        save_quantiles(tmp_path / "r.safetensors", curves, model=other)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / "bad.safetensors").write_bytes(bytes(data))
    with pytest.raises(StatisticsFileError, match="corrupted"):
        load_quantiles(tmp_path / "bad.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a file")
    with pytest.raises(StatisticsFileError, match="truncated|not"):
        load_quantiles(tmp_path / "junk.safetensors")


def test_bad_inputs_name_what_is_valid(tiny_model, tiny_images):
    with pytest.raises(KeyError, match="no layer 'conv9'.*closest: conv"):
        collect_quantiles(tiny_model, tiny_images, ["conv9"])
    with pytest.raises(ValueError, match="integer ≥ 2"):
        collect_quantiles(tiny_model, tiny_images, LAYERS, quantiles=1)
    with pytest.raises(ValueError, match="integer ≥ 2"):
        ChannelQuantiles("conv1", quantiles=2.5)
    with pytest.raises(ValueError, match="no images: give float images"):
        collect_quantiles(tiny_model, tiny_images[:0], LAYERS)
    with pytest.raises(ValueError, match="no layers: name at least one"):
        collect_quantiles(tiny_model, tiny_images, [])
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        collect_quantiles(tiny_model, tiny_images * 255, LAYERS)
    with pytest.raises(ValueError, match="no curves yet"):
        _ = ChannelQuantiles("conv1").curves
    item = ChannelQuantiles("conv1", 4).update(torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="5 channels, but 3"):
        item.update(torch.zeros(1, 5, 2, 2))
    with pytest.raises(ValueError, match="NaN or Inf"):
        item.update(torch.full((1, 3, 2, 2), float("nan")))
    with pytest.raises(ValueError, match="pass model="):
        save_quantiles("unused.safetensors", {"conv1": item})
