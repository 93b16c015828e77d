"""Whole maps, grids, low-rank conditioning, calibrated priors, the backward chain, code Langevin."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from stochvis import stats as S
from stochvis.features import MapTooLargeError, feature, feature_key, make_plan, parse_key
from stochvis.methods import chain, code_sampling
from stochvis.methods.generator_prior import GeneratorPrior
from stochvis.methods.inversion import calibrated_image_priors
from stochvis.stats import sampling
from stochvis.stats.lowrank import LowRankDensity


@pytest.fixture(scope="module")
def model():
    from tests.conftest import make_tiny

    return make_tiny()


@pytest.fixture(scope="module")
def images():
    # structured images (a bright blob on a dark background) so maps are correlated like real ones
    g = torch.Generator().manual_seed(3)
    base = torch.zeros(60, 3, 16, 16)
    for i in range(60):
        r, c = (int(v) for v in torch.randint(3, 10, (2,), generator=g))
        base[i, :, r:r + 5, c:c + 5] = 0.6 + 0.4 * torch.rand(3, 1, 1, generator=g)
    return (base + 0.05 * torch.rand(base.shape, generator=g)).clamp(0, 1)


@pytest.fixture(scope="module")
def map_stats(model, images):
    # conv3 map: 16·8·8 = 1024 values, pool1 map: 8·8·8 = 512; joint conv3 | pooled conv3 and pool1 | conv3
    return S.collect(model, images, ["conv3"], maps=["conv3", "pool1"], full_dim_limit=1024,
                     joint=[("conv3/map", "conv3/pooled"), ("pool1/map", "conv3/map")], batch_size=32, progress=False)


def test_map_statistics_round_trip_through_the_file(map_stats, model, tmp_path):
    assert map_stats.meta["projections"] == {"conv3/map": "identity", "pool1/map": "identity"}
    assert map_stats["pool1/map+conv3/map"].dim == 512 + 1024
    path = map_stats.save(tmp_path / "maps.safetensors")
    loaded = S.Statistics.load(path, model)
    assert loaded.plan.to_json() == map_stats.plan.to_json()
    for key in map_stats.keys():
        assert torch.equal(loaded[key].m2, map_stats[key].m2)
    assert feature("pool1/map", loaded).kind == "map"


def test_map_larger_than_the_limit_is_never_projected_silently(model, images):
    with pytest.raises(MapTooLargeError, match=r"1024 values.*projection_dim.*grid"):
        make_plan(model, ["conv3"], (3, 16, 16), pooled=False, maps=["conv3"], full_dim_limit=600)
    with pytest.raises(MapTooLargeError):
        S.collect(model, images[:4], ["conv3"], maps=True, full_dim_limit=600, progress=False)
    projected = make_plan(model, ["conv3"], (3, 16, 16), pooled=False, maps=["conv3"], full_dim_limit=600,
                          projection_dim=16)  # asked for: recorded in the plan
    assert projected.maps["conv3"]["kind"] == "random"
    grid = make_plan(model, ["conv3"], (3, 16, 16), pooled=False, maps=["conv3"], full_dim_limit=600, grid=2)
    assert grid.keys == ["conv3/grid2"] and not grid.maps


def test_grid_feature_is_the_average_pooled_map(model, images):
    stats = S.collect(model, images[:8], ["conv3"], pooled=False, maps=["conv3/grid2"], progress=False)
    assert parse_key("conv3/grid2") == ("conv3", "grid", 2) and feature_key("conv3", "grid", 2) == "conv3/grid2"
    vectors = stats.vectors(model, images[:8])["conv3/grid2"]
    from stochvis.layers import capture

    with torch.no_grad():
        act = capture(model, images[:8], ["conv3"])["conv3"]
    expected = act.reshape(8, 16, 2, 4, 2, 4).mean((3, 5)).flatten(1)
    assert torch.allclose(vectors.float(), expected, atol=1e-5)
    assert torch.allclose(stats["conv3/grid2"].mean.float(), expected.double().mean(0).float(), atol=1e-5)
    assert feature("conv3/grid2").key == "conv3/grid2"


def test_lowrank_conditional_draws_have_the_dense_conditional_mean():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((40, 3))
    X = rng.standard_normal((4000, 3)) @ W.T + 0.3 * rng.standard_normal((4000, 40)) + 1.0
    stats = S.FeatureStats.of_batch(torch.from_numpy(X), parts=[("a/map", 0, 30), ("b/pooled", 30, 40)])
    st = S.Statistics({"a/map+b/pooled": stats}, {"plan": {"pooled": [], "maps": {}, "joint": []}})
    given = X[:5, 30:]
    dense = st.density("a/map+b/pooled", shrinkage=None).conditional_mean(given, given="b/pooled")
    lowrank = sampling.density_model(st, "a/map+b/pooled", "lowrank", n_components=3)
    conditional = lowrank.condition("b/pooled", given)
    assert np.abs(conditional.mean_ - dense).max() < 0.05 * np.abs(dense).max()
    draws = conditional.sample(n_samples=3000, random_state=1).mean(0)
    assert np.abs(draws - dense).max() < 0.1 * np.abs(dense).max()


def test_rectified_draws_match_the_observed_zero_fraction(map_stats):
    plain = sampling.draw(map_stats, "pool1/map", 400, seed=0)
    sparse = sampling.draw(map_stats, "pool1/map", 400, seed=0, rectify="sparsity")
    real = sampling.zero_fraction(map_stats, "pool1/map").mean().item()
    assert (plain == 0).double().mean() < 0.05
    assert abs((sparse == 0).double().mean().item() - real) < 0.1
    assert (sampling.draw(map_stats, "pool1/map", 50, rectify="clip") >= 0).all()


def test_temperature_scales_each_draw_around_its_conditional_mean(map_stats):
    layers = ["conv3/pooled", "conv3/map", "pool1/map"]
    cold = sampling.conditional_chain(map_stats, layers, 300, seed=1)
    warm = sampling.conditional_chain(map_stats, layers, 300, seed=1, temperature=2.0)
    mean = map_stats["conv3/pooled"].mean.double()
    ratio = (warm["conv3/pooled"] - mean).std(0).mean() / (cold["conv3/pooled"] - mean).std(0).mean()
    assert abs(float(ratio) - 2.0) < 1e-6  # the same noise, twice the spread
    # the shallower layer: its deviation from the conditional mean given the (tempered) layer above
    joint = sampling.density_model(map_stats, "pool1/map+conv3/map")
    given = warm["conv3/map"].numpy()
    spread = (warm["pool1/map"].numpy() - joint.conditional_mean(given, given="conv3/map")).std(0).mean()
    plain = sampling.conditional_chain(map_stats, layers, 300, seed=1, top=warm["conv3/pooled"])
    # (a chain from the same top at T=1 draws conv3/map around a different spread: compare like with like)
    spread1 = (plain["pool1/map"].numpy() - joint.conditional_mean(plain["conv3/map"].numpy(), given="conv3/map")).std(0)
    assert abs(spread / spread1.mean() - 2.0) < 0.15
    for bad in (0, -1.0, float("nan"), True, "2"):
        with pytest.raises(ValueError, match="temperature"):
            sampling.draw(map_stats, "pool1/map", 2, temperature=bad)


def test_density_models_are_remembered_until_the_statistics_change(map_stats):
    first = sampling.density_model(map_stats, "pool1/map+conv3/map")
    assert sampling.density_model(map_stats, "pool1/map+conv3/map") is first
    assert sampling.density_model(map_stats, "pool1/map+conv3/map", shrinkage=0.1) is not first  # another model
    for key in ["conv3/pooled", "conv3/map", "pool1/map", "conv3/map+conv3/pooled"]:  # more than the memo holds
        sampling.density_model(map_stats, key)
    assert len(map_stats._models) <= S.store.MEMO_SIZE
    again = sampling.density_model(map_stats, "pool1/map")
    feat = map_stats["pool1/map"]
    saved = feat.mean.clone()
    feat.mean.add_(1.0)  # an in-place edit: the remembered model is stale
    try:
        edited = sampling.density_model(map_stats, "pool1/map")
        assert edited is not again
        assert np.allclose(edited.mean_, saved.double().numpy() + 1.0)
    finally:
        feat.mean.copy_(saved)


def test_calibrated_priors_score_real_images_as_typical():
    g = torch.Generator().manual_seed(0)
    real = torch.zeros(50, 1, 16, 16)
    for i in range(50):
        r, c = (int(v) for v in torch.randint(2, 8, (2,), generator=g))
        real[i, :, r:r + 6, c:c + 6] = 0.5 + 0.5 * torch.rand(1, generator=g)
    priors = calibrated_image_priors(real, tv=1.0, norm=1.0, quantiles=1.0)
    cost = priors.cost(real)
    assert set(cost) == {"tv", "norm", "quantiles"}
    for term, values in cost.items():
        assert abs(values.median().item() - 1) < 1e-5, term  # by construction
        assert values.max().item() < 50, term  # no real image is an outlier by orders of magnitude
    assert float(priors.init.max()) == 0.0  # the background, not mid-grey
    flat = torch.full((1, 1, 16, 16), 0.5)
    plain = calibrated_image_priors(real, tv=1.0, norm=1.0)  # TV and norm only
    penalty = sum(r(flat) for r in plain.regularizers if hasattr(r, "weight")).item()
    real_penalty = sum(r(real) for r in plain.regularizers if hasattr(r, "weight")).median().item()
    assert real_penalty < 10 and penalty < real_penalty * 10  # same order: grey is not the prior's favourite by far
    assert cost["quantiles"].median() < priors.cost(flat)["quantiles"].item()  # the histogram term disfavours flat grey


def test_pixel_quantiles_pull_a_dark_image_towards_the_real_histogram():
    from stochvis.optvis.regularizers import PixelQuantiles

    g = torch.Generator().manual_seed(1)
    real = (torch.rand(40, 1, 8, 8, generator=g) > 0.6).float() * (0.6 + 0.4 * torch.rand(40, 1, 8, 8, generator=g))
    target = real.flatten(1).sort(dim=1).values.mean(0)
    penalty = PixelQuantiles(1.0, target)
    assert penalty(target.flip(0).view(1, 1, 8, 8)).item() == pytest.approx(0.0, abs=1e-12)  # any order of those values
    dark = torch.zeros(1, 1, 8, 8, requires_grad=True)
    penalty(dark).sum().backward()
    assert (dark.grad <= 0).all() and (dark.grad < 0).sum() > 20  # descending it brightens the top quantiles
    with pytest.raises(ValueError, match="64"):
        penalty(torch.zeros(1, 1, 9, 9))
    with pytest.raises(ValueError, match="ascending"):
        PixelQuantiles(1.0, target.flip(0))
    priors = calibrated_image_priors(real, quantiles=0.5)
    assert priors.cost(real)["quantiles"].median().item() == pytest.approx(1.0, abs=1e-5)
    assert "quantiles" not in calibrated_image_priors(real).cost(real)  # off by default


def test_chain_gives_one_image_per_sample_and_typical_layers(model, images, map_stats):
    priors = calibrated_image_priors(images)
    result = chain.reconstruct_chain(model, map_stats, ["conv3/pooled", "conv3/map", "pool1/map"], 3, steps=5,
                                     priors=priors, rectify=False, density=["gaussian", "lowrank", "gaussian"],
                                     n_components=8)
    assert result.images.shape == (3, 3, 16, 16)
    assert set(result.targets) == {"conv3/pooled", "conv3/map", "pool1/map"}
    # yardstick: Mahalanobis/√d of the class model's own unconditional draws is ≈ 1 at any width
    # (the 60 real images score far lower at d=1024 > N: they are what the covariance was fitted on)
    for key, scores in result.typicality.items():
        assert scores.shape == (3,)
        assert 0.5 < float(scores.mean()) < 2.0, (key, scores)


class _TinyGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 3 * 16 * 16)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc(codes)).view(-1, 3, 16, 16)


def test_langevin_code_sampling_stays_in_the_box(model):
    torch.manual_seed(0)
    upper = torch.full((6,), 0.8)
    prior = GeneratorPrior(_TinyGenerator(), (6,), channels=3, size=(16, 16), lower=torch.zeros(6), upper=upper)
    rng = np.random.default_rng(0)
    codes = np.abs(rng.standard_normal((200, 6))) * 0.3 + 0.2
    density = S.GaussianDensity().fit(codes)
    result = code_sampling.sample_codes(prior, model, 1, density, 5, steps=30, step_size=0.5, class_weight=2.0,
                                        record_every=10)
    assert result.images.shape == (5, 3, 16, 16)
    assert result.trace.shape == (4, 5, 6)
    for states in (result.codes, result.trace):
        assert (states >= 0).all() and (states <= upper).all()
    again = code_sampling.sample_codes(prior, model, 1, LowRankDensity(n_components=2).fit(codes), 3, steps=10,
                                       step_size=0.5)
    assert (again.codes >= 0).all() and (again.codes <= upper).all()
