"""The density of per-image curves (stochvis.stats.curve_density): its mean is the class's mean curves, its
draws vary as the images' curves vary (jointly over layers), stay curves within each channel's range, are
reproducible by seed, and its files are tied to the model's weights."""

from __future__ import annotations

import pytest
import torch
from conftest import make_tiny
from sklearn.exceptions import NotFittedError

from stochvis.stats.curve_density import CurveDensity, collect_curve_density, curve_novelty, novelty_temperature
from stochvis.stats.moments import StatisticsFileError
from stochvis.stats.quantiles import collect_quantiles, image_curves

LAYERS = ["conv1", "conv3"]


def _images(n: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


def _two_scenes(n: int = 400) -> dict[str, torch.Tensor]:
    """Curves of two layers that rise and fall together: image i's curves are a_i·base, a_i uniform in [1, 3]."""
    a = torch.rand(n, generator=torch.Generator().manual_seed(3)) * 2 + 1
    base = torch.linspace(0, 1, 6)
    return {"shallow": a[:, None, None] * base.expand(n, 2, 6), "deep": 2 * a[:, None, None] * base.expand(n, 3, 6)}


def test_per_image_curves_average_to_the_collected_mean_curves(tiny_model):
    images = _images()
    per_image = image_curves(tiny_model, images, LAYERS, quantiles=8, batch_size=5)
    mean = collect_quantiles(tiny_model, images, LAYERS, quantiles=8)
    density = collect_curve_density(tiny_model, images, LAYERS, quantiles=8)
    for layer in LAYERS:
        assert per_image[layer].shape == (12, *mean[layer].curves.shape)
        torch.testing.assert_close(per_image[layer].mean(0), mean[layer].curves, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(density.mean_curves[layer], mean[layer].curves, rtol=1e-5, atol=1e-6)
    assert density.fingerprint_ == tiny_model.fingerprint and density.count_ == 12


def test_draws_vary_like_the_images_jointly_over_layers_and_stay_curves():
    curves = _two_scenes()
    density = CurveDensity().fit(curves)
    drawn = density.sample(2000, seed=1)
    assert set(drawn) == {"shallow", "deep"} and drawn["deep"].shape == (2000, 3, 6)
    for layer, real in curves.items():
        assert (drawn[layer].diff(dim=-1) >= 0).all()  # each drawn curve rises with the level
        low, high = real[:, :, 0].amin(0), real[:, :, -1].amax(0)
        assert (drawn[layer] >= low[:, None]).all() and (drawn[layer] <= high[:, None]).all()
        # the spread of the top level is the images' (a uniform in [1, 3] has std 0.577; the clamp trims a little)
        spread = drawn[layer][:, 0, -1].std() / real[:, 0, -1].std()
        assert 0.8 < float(spread) < 1.05, (layer, float(spread))
    # one draw is one scene: where the shallow layer's curve is high, the deep layer's is high too
    top_shallow, top_deep = drawn["shallow"][:, 0, -1], drawn["deep"][:, 0, -1]
    assert torch.corrcoef(torch.stack([top_shallow, top_deep]))[0, 1] > 0.95


def test_draws_are_reproducible_by_seed_and_temperature_zero_is_the_mean():
    density = CurveDensity().fit(_two_scenes(50))
    first, again, other = density.sample(4, seed=7), density.sample(4, seed=7), density.sample(4, seed=8)
    assert torch.equal(first["deep"], again["deep"]) and not torch.equal(first["deep"], other["deep"])
    cold = density.sample(3, seed=7, temperature=0.0)
    for layer, mean in density.mean_curves.items():
        torch.testing.assert_close(cold[layer], mean.expand(3, *mean.shape), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(first["deep"][0], first["deep"][1])  # a new target per draw


def test_fewer_components_keep_the_main_way_the_images_differ():
    curves = _two_scenes(100)
    one = CurveDensity(n_components=1).fit(curves)
    assert one.components_.shape == (1, 2 * 6 + 3 * 6)
    drawn = one.sample(500, seed=0)
    assert float(drawn["deep"][:, 0, -1].std()) > 0.8 * float(curves["deep"][:, 0, -1].std())


def test_bad_input_is_refused_with_what_is_valid():
    with pytest.raises(ValueError, match="at least 2 images"):
        CurveDensity().fit({"x": torch.zeros(1, 2, 4)})
    with pytest.raises(ValueError, match="same images; the counts differ"):
        CurveDensity().fit({"a": torch.rand(3, 2, 4), "b": torch.rand(4, 2, 4)})
    with pytest.raises(ValueError, match=r"\(N, C, Q\) with Q ≥ 2"):
        CurveDensity().fit({"a": torch.rand(3, 2)})
    with pytest.raises(ValueError, match="NaN or Inf"):
        CurveDensity().fit({"a": torch.full((3, 2, 4), float("nan"))})
    with pytest.raises(ValueError, match="from 1 to 2"):
        CurveDensity(n_components=5).fit({"a": torch.rand(3, 2, 4)})
    with pytest.raises(NotFittedError):
        CurveDensity().sample(2)
    density = CurveDensity().fit({"a": torch.rand(3, 2, 4)})
    with pytest.raises(ValueError, match="positive integer"):
        density.sample(0)
    with pytest.raises(ValueError, match="temperature"):
        density.sample(2, temperature=-1)
    with pytest.raises(ValueError, match="names no model weights"):
        density.save("unused.safetensors")


def test_files_round_trip_and_are_refused_for_other_weights_or_edits(tiny_model, tmp_path):
    density = collect_curve_density(tiny_model, _images(6), LAYERS, quantiles=8, n_components=3)
    path = density.save(tmp_path / "birds.safetensors")
    loaded = CurveDensity.load(path, tiny_model)
    assert loaded.layers_ == LAYERS and loaded.n_components == 3 and loaded.count_ == 6
    for layer in LAYERS:
        assert torch.equal(loaded.sample(2, seed=4)[layer], density.sample(2, seed=4)[layer])
    with pytest.raises(ValueError, match="collected with tiny weights"):
        CurveDensity.load(path, make_tiny(seed=1))
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    (tmp_path / "bad.safetensors").write_bytes(bytes(data))
    with pytest.raises(StatisticsFileError, match="corrupted"):
        CurveDensity.load(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError):
        CurveDensity.load(tmp_path / "none.safetensors")


def _spread_scenes(n: int = 60, directions: int = 8, seed: int = 5) -> dict[str, torch.Tensor]:
    """Curves that vary along ``directions`` independent ways (each image a random mix of them)."""
    g = torch.Generator().manual_seed(seed)
    ways = torch.randn(directions, 3 * 6, generator=g)
    flat = torch.randn(n, directions, generator=g) @ ways
    curves = (torch.linspace(0, 4, 6) + flat.reshape(n, 3, 6)).sort(dim=-1).values
    return {"shallow": curves[:, :1], "deep": curves[:, 1:] * 3}


def test_the_calibrated_temperature_makes_draws_as_new_as_a_new_image():
    curves = _spread_scenes()
    density = CurveDensity().fit(curves)
    temperature = novelty_temperature(density, curves, tolerance=0.005)
    assert curve_novelty(density, curves, temperature=temperature) >= 1.0
    assert curve_novelty(density, curves, temperature=temperature - 0.02) < 1.0
    # the novelty grows with the spread: the mean (temperature 0) is the least new
    ratios = [curve_novelty(density, curves, temperature=t) for t in (0.0, 0.5, 1.0, 2.0)]
    assert ratios == sorted(ratios) and ratios[0] < 1.0 < ratios[-1]
    # fewer components span less of the images' variety: a higher temperature is needed to be as new
    assert novelty_temperature(CurveDensity(2).fit(curves), curves) > temperature


def test_groups_measure_novelty_against_images_of_other_photos_and_objects():
    """Images in tight pairs (one scene, two crops): a new image is far from the others only when its own
    pair's twin does not count — so with the pairs as groups the reference is larger, and the draws need
    more spread to be as new as it."""
    base = _spread_scenes(n=30)
    twins = {layer: torch.cat([c, c + 0.01]) for layer, c in base.items()}
    pairs = [(f"scene{i % 30}",) for i in range(60)]
    density = CurveDensity().fit(twins)
    assert curve_novelty(density, twins, pairs) < curve_novelty(density, twins)
    assert novelty_temperature(density, twins, pairs) > novelty_temperature(density, twins)
    with pytest.raises(ValueError, match="one tuple of labels per image: 3 for 60"):
        curve_novelty(density, twins, pairs[:3])
    with pytest.raises(ValueError, match="shares none of its group labels"):
        curve_novelty(density, twins, [("one photo",)] * 60)
    with pytest.raises(ValueError, match="lack the density's layers \\['deep'\\]"):
        curve_novelty(density, {"shallow": twins["shallow"]})
    with pytest.raises(ValueError, match="target must be a positive"):
        novelty_temperature(density, twins, target=0)
