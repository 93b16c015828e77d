"""Class statistics: exact merges, agreement with numpy/scikit-learn, Gaussian maths, safe files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.covariance import OAS
from sklearn.decomposition import PCA

from stochvis import stats as S
from stochvis.stats import sampling

LAYERS = ["conv1", "conv2", "conv3"]
OPTIONS = dict(maps=["conv3", "pool1"], full_dim_limit=600, projection_dim=24, joint="consecutive",
               batch_size=8, progress=False)


@pytest.fixture(scope="module")
def model():
    from conftest import make_tiny

    return make_tiny()


@pytest.fixture(scope="module")
def images():
    return torch.rand(48, 3, 16, 16, generator=torch.Generator().manual_seed(3))


@pytest.fixture(scope="module")
def stats(model, images):
    return S.collect(model, images, LAYERS, class_name="noise", **OPTIONS)


def test_features_and_projection_recorded(stats):
    assert stats.keys() == ["conv1/pooled", "conv2/pooled", "conv3/pooled", "conv3/map", "pool1/map",
                            "conv1/pooled+conv2/pooled", "conv2/pooled+conv3/pooled"]
    assert stats.meta["projections"] == {"conv3/map": "random", "pool1/map": "identity"}
    assert stats["conv3/map"].dim == 24 and stats["pool1/map"].dim == 8 * 8 * 8
    assert stats.joint("conv2", "conv3").parts == [("conv2/pooled", 0, 8), ("conv3/pooled", 8, 24)]
    assert stats.count == 48 and stats.class_name == "noise"


def test_merge_equals_union_to_1e10(model, images, stats):
    # batches of 8 inside both halves, so the network sees the same batches as in the union
    first = S.collect(model, images[:16], LAYERS, **OPTIONS)
    second = S.collect(model, images[16:], LAYERS, **OPTIONS)
    merged = first.merge(second)
    for key in stats.keys():
        a, b = merged[key], stats[key]
        assert a.count == b.count
        for name in ("mean", "m2", "minimum", "maximum", "histogram"):
            assert torch.allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-10), (key, name)


def test_feature_merge_is_exact_on_float64_data():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(5.0, 3.0, (1000, 6)))
    whole = S.FeatureStats(6).update(x)
    parts = S.FeatureStats(6)
    for chunk in torch.split(x, 77):
        parts = parts.merge(S.FeatureStats.of_batch(chunk))
    assert torch.allclose(parts.mean, whole.mean, rtol=0, atol=1e-10)
    assert torch.allclose(parts.m2, whole.m2, rtol=1e-12, atol=1e-10)


def test_streamed_covariance_equals_numpy(model, images, stats):
    vectors = stats.vectors(model, images)
    for key in stats.keys():
        x = vectors[key].numpy()
        assert np.allclose(stats[key].mean.numpy(), x.mean(0), rtol=0, atol=1e-12)
        assert np.allclose(stats[key].covariance().numpy(), np.cov(x.T), rtol=1e-9, atol=1e-12), key
        assert np.array_equal(stats[key].minimum.numpy(), x.min(0))
        assert np.array_equal(stats[key].maximum.numpy(), x.max(0))


def test_quantiles_within_histogram_resolution():
    x = torch.from_numpy(np.random.default_rng(1).lognormal(0, 1, (4000, 3)))
    estimate = S.FeatureStats(3).update(x).quantile([0.05, 0.5, 0.95]).numpy()
    exact = np.quantile(x.numpy(), [0.05, 0.5, 0.95], axis=0)
    assert np.allclose(estimate, exact, rtol=0.05)


def _toy_density(mean, cov):
    stats = S.FeatureStats(len(mean), 10, torch.tensor(mean, dtype=torch.float64),
                           torch.tensor(cov, dtype=torch.float64) * 10, torch.zeros(3), torch.zeros(3),
                           torch.zeros(3, S.HIST_BINS), [("a", 0, 2), ("b", 2, 3)])
    return S.GaussianDensity.from_stats(stats, shrinkage=None, reg_covar=0.0)


def test_condition_equals_closed_form_on_3d_toy():
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.6, 0.8], [0.6, 1.5, -0.4], [0.8, -0.4, 1.0]])
    density = _toy_density(mean, cov)
    value = np.array([1.7])
    conditional = density.condition(value)  # given the last part, "b"
    expected_mean = mean[:2] + cov[:2, 2] / cov[2, 2] * (value[0] - mean[2])
    expected_cov = cov[:2, :2] - np.outer(cov[:2, 2], cov[2, :2]) / cov[2, 2]
    assert np.allclose(conditional.mean_, expected_mean, atol=1e-12)
    assert np.allclose(conditional.covariance_, expected_cov, atol=1e-12)
    # conditioning on the first part by name gives the general Schur complement
    given_a = density.condition(np.array([0.0, 0.0]), given="a")
    gain = cov[2:, :2] @ np.linalg.inv(cov[:2, :2])
    assert np.allclose(given_a.mean_, mean[2:] + gain @ (np.zeros(2) - mean[:2]), atol=1e-12)
    assert np.allclose(given_a.covariance_, cov[2:, 2:] - gain @ cov[:2, 2:], atol=1e-12)
    assert np.allclose(density.conditional_mean(np.array([[1.7], [0.0]]))[0], expected_mean, atol=1e-12)
    # batched conditional draws scatter around the conditional mean with the conditional covariance
    draws = density.conditional_sample(np.full((20000, 1), 1.7), random_state=0)
    assert np.allclose(draws.mean(0), expected_mean, atol=0.04)
    assert np.allclose(np.cov(draws.T), expected_cov, atol=0.05)


def test_log_likelihood_and_mahalanobis_match_scipy():
    from scipy.stats import multivariate_normal

    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.6, 0.8], [0.6, 1.5, -0.4], [0.8, -0.4, 1.0]])
    density = _toy_density(mean, cov)
    x = np.random.default_rng(2).normal(size=(5, 3))
    assert np.allclose(density.score_samples(x), multivariate_normal(mean, cov).logpdf(x), atol=1e-10)
    expected = np.sqrt(np.einsum("ni,ij,nj->n", x - mean, np.linalg.inv(cov), x - mean))
    assert np.allclose(density.mahalanobis(x), expected, atol=1e-10)
    groups = density.group_mahalanobis(x)
    assert np.allclose(groups["b"], np.abs(x[:, 2] - mean[2]) / np.sqrt(cov[2, 2]), atol=1e-10)


def test_samples_reproduce_mean_and_covariance():
    mean = np.array([1.0, -2.0, 0.5])
    cov = np.array([[2.0, 0.6, 0.8], [0.6, 1.5, -0.4], [0.8, -0.4, 1.0]])
    draws = _toy_density(mean, cov).sample(40000, random_state=5)
    n = len(draws)
    assert np.all(np.abs(draws.mean(0) - mean) < 4 * np.sqrt(np.diag(cov) / n))
    # sd of a covariance entry ≈ sqrt((Σii Σjj + Σij²) / n)
    tolerance = 4 * np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(np.cov(draws.T) - cov) < tolerance)
    assert not np.allclose(_toy_density(mean, cov).sample(3, random_state=1), _toy_density(mean, cov).sample(3, random_state=2))


def test_oas_from_statistics_equals_sklearn_on_raw_vectors():
    x = np.random.default_rng(4).normal(size=(30, 12)) @ np.random.default_rng(5).normal(size=(12, 12))
    stats = S.FeatureStats(12).update(torch.from_numpy(x))
    from_stats = S.GaussianDensity.from_stats(stats, reg_covar=0.0)
    reference = OAS().fit(x)
    assert from_stats.shrinkage_ == pytest.approx(reference.shrinkage_, abs=1e-12)
    assert np.allclose(from_stats.covariance_, reference.covariance_, atol=1e-10)
    fitted = S.GaussianDensity(reg_covar=0.0).fit(x)
    assert np.allclose(fitted.covariance_, from_stats.covariance_, atol=1e-10)
    lw = S.GaussianDensity("ledoit_wolf").fit(x)
    assert 0 < lw.shrinkage_ < 1
    with pytest.raises(ValueError, match="raw vectors"):
        S.GaussianDensity.from_stats(stats, shrinkage="ledoit_wolf")


def test_ppca_from_statistics_equals_sklearn_pca_likelihood():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 8)) + 0.3 * rng.normal(size=(200, 8))
    ppca = S.PPCADensity.from_stats(S.FeatureStats(8).update(torch.from_numpy(x)), n_components=3)
    assert np.allclose(ppca.score_samples(x), PCA(3).fit(x).score_samples(x), atol=1e-8)


def test_mixture_needs_raw_vectors_and_fits_two_modes():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(-5, 1, (200, 2)), rng.normal(5, 1, (200, 2))])
    mixture = S.MixtureDensity(2).fit(x)
    assert mixture.score_samples([[5.0, 5.0]])[0] > mixture.score_samples([[0.0, 0.0]])[0]
    assert np.all(mixture.mahalanobis([[-5.0, -5.0], [5.0, 5.0]]) < 0.5)
    assert np.abs(mixture.sample(400, random_state=0)).mean() > 3
    with pytest.raises(TypeError, match="raw vectors"):
        S.MixtureDensity.from_stats(S.FeatureStats(2).update(torch.from_numpy(x)))


def test_joint_marginal_equals_single_layer(stats):
    joint = stats.joint("conv2", "conv3")
    marginal = joint.marginal("conv3")
    assert torch.allclose(marginal.m2, stats["conv3"].m2, atol=1e-12)
    assert torch.allclose(marginal.mean, stats["conv3"].mean, atol=1e-14)


def test_collect_classes_equals_one_collect_per_class(model, images):
    labels = torch.arange(len(images)) % 3
    per_class = S.collect_classes(model, (images, labels), ["conv3"], classes=["a", "b", "c"], progress=False)
    assert list(per_class) == ["a", "b", "c"]
    alone = S.collect(model, images[labels == 1], ["conv3"], progress=False)
    assert per_class["b"].count == alone.count == 16
    assert torch.allclose(per_class["b"]["conv3"].m2, alone["conv3"].m2, atol=1e-10)


def test_save_load_round_trip_is_exact(stats, model, tmp_path):
    path = stats.save(tmp_path / "noise.safetensors")
    loaded = S.Statistics.load(path, model)
    assert loaded.keys() == stats.keys()
    for key in stats.keys():
        for name in ("mean", "m2", "minimum", "maximum", "histogram"):
            assert torch.equal(getattr(loaded[key], name), getattr(stats[key], name).cpu())
        assert loaded[key].count == stats[key].count and loaded[key].parts == stats[key].parts
    assert loaded.meta["fingerprint"] == model.fingerprint and loaded.meta["class_name"] == "noise"
    assert loaded.meta["layers"] == ["conv1", "conv2", "conv3", "pool1"]
    assert not list(tmp_path.glob(".*.tmp")), "temporary file left behind"


def test_wrong_model_corrupted_file_unknown_layer_give_clear_errors(stats, model, tmp_path):
    from conftest import make_tiny

    path = stats.save(tmp_path / "noise.safetensors")
    with pytest.raises(ValueError, match="collected with tiny weights .* collect them again"):
        S.Statistics.load(path, make_tiny(seed=1))
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(S.StatisticsFileError, match="truncated"):
        S.Statistics.load(truncated)
    flipped = bytearray(data)
    flipped[-100] ^= 0xFF
    corrupted = tmp_path / "corrupted.safetensors"
    corrupted.write_bytes(bytes(flipped))
    with pytest.raises(S.StatisticsFileError, match="corrupted"):
        S.Statistics.load(corrupted)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(S.StatisticsFileError, match="not a stochvis statistics file"):
        S.Statistics.load(garbage)
    with pytest.raises(KeyError, match="available: conv1/pooled"):
        stats["conv4"]
    with pytest.raises(KeyError, match="tiny has no layer 'conv9'"):
        S.collect(model, torch.rand(2, 3, 16, 16), ["conv9"], progress=False)
    with pytest.raises(KeyError, match="joint statistics need 'conv9/pooled'"):
        S.collect(model, torch.rand(2, 3, 16, 16), ["conv1"], joint=[("conv1", "conv9")], progress=False)


def test_sources_imageset_and_loader(model):
    from PIL import Image

    from stochvis.data import ImageSet

    pictures = [Image.fromarray(np.random.default_rng(i).integers(0, 255, (20, 20, 3), dtype=np.uint8)) for i in range(5)]
    image_set = ImageSet(pictures, [0, 1, 0, 1, 0], ["x", "y"], "random")
    per_class = S.collect_classes(model, image_set, ["conv3"], image_size=16, batch_size=2, progress=False)
    assert {k: s.count for k, s in per_class.items()} == {"x": 3, "y": 2}
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.rand(6, 3, 16, 16), torch.zeros(6)), batch_size=4)
    assert S.collect(model, loader, "conv1", progress=False).count == 6


def test_chain_and_outlier_units(stats, model, images):
    chain = sampling.conditional_chain(stats, ["conv3", "conv2", "conv1"], 5, seed=0)
    assert {k: tuple(v.shape) for k, v in chain.items()} == {"conv3": (5, 16), "conv2": (5, 8), "conv1": (5, 8)}
    means = sampling.conditional_chain(stats, ["conv3", "conv2"], 2, top=chain["conv3"][:2], means_only=True)
    expected = stats.density("conv2/pooled+conv3/pooled").condition(chain["conv3"][0].numpy()).mean_
    assert np.allclose(means["conv2"][0].numpy(), expected, atol=1e-10)
    with pytest.raises(KeyError, match="joint='consecutive'"):
        sampling.conditional_chain(stats, ["conv3", "conv1"], 2)
    draws = sampling.draw(stats, "conv3", 4, seed=0)
    assert draws.shape == (4, 16) and torch.equal(draws, sampling.draw(stats, "conv3", 4, seed=0))
    # an outlier vector: unit 5 pushed 10 std above the class mean is the one picked
    density = stats.density("conv3/pooled")
    vector = density.mean_.copy()
    vector[5] += 10 * np.sqrt(density.covariance_[5, 5])
    scores = sampling.score_vectors(density, vector[None], "conv3/pooled")
    assert scores.units(3.0).tolist() == [5]
    real = sampling.outlier_scores(stats, model, images[:8], ["conv3"])["conv3/pooled"]
    assert scores.mahalanobis[0] > real.mahalanobis.max()


def test_cache_reuses_matching_files_and_recollects_on_change(model, images, tmp_path, monkeypatch):
    labelled = (images[:12], torch.arange(12) % 2)
    first = S.collect_classes_cached(model, labelled, ["conv3"], name="toy", directory=tmp_path, progress=False)
    calls = []
    from stochvis.stats import collection

    original = collection.collect_classes
    monkeypatch.setattr(collection, "collect_classes", lambda *a, **k: calls.append(1) or original(*a, **k))
    again = S.collect_classes_cached(model, labelled, ["conv3"], name="toy", directory=tmp_path, progress=False)
    assert not calls and list(again) == list(first)
    assert torch.equal(again["1"]["conv3"].m2, first["1"]["conv3"].m2)
    S.collect_classes_cached(model, labelled, ["conv3"], name="toy", directory=tmp_path, batch_size=4, progress=False)
    assert calls == [1]


def test_split_by_source_keeps_renders_of_one_object_together():
    from stochvis.data import ImageSet, split_by_source

    sources = [f"stamp{i // 3}" for i in range(24)]  # 8 objects, 3 renders each
    image_set = ImageSet(list(range(24)), [i % 2 for i in range(24)], ["a", "b"], "toy", sources)
    train, held_out = split_by_source(image_set, held_out_every=4)
    assert len(train) == 18 and len(held_out) == 6
    assert not set(train.sources) & set(held_out.sources)


def test_discriminant_directions_separate_two_gaussian_classes():
    rng = np.random.default_rng(8)
    shift = np.zeros(5)
    shift[2] = 3.0
    per_class = {}
    for name, offset in (("a", 0.0), ("b", 1.0)):
        stats = S.FeatureStats(5).update(torch.from_numpy(rng.normal(size=(300, 5)) + offset * shift))
        per_class[name] = S.Statistics({"x/pooled": stats}, {})
    direction = S.discriminant_directions(per_class, "x/pooled", n_components=1)[:, 0]
    assert np.argmax(np.abs(direction)) == 2
    assert np.argmax(S.fisher_ratio(per_class, "x/pooled")) == 2


def test_densities_follow_scikit_learn_conventions():
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    x = np.random.default_rng(0).normal(size=(200, 3))
    for density in (S.GaussianDensity(random_state=3), S.PPCADensity(1, random_state=3), S.MixtureDensity(2, random_state=3)):
        assert not any(name.endswith("_") and not name.startswith("_") for name in vars(density)), vars(density)
        with pytest.raises(NotFittedError):
            density.sample(2)
        fitted = density.fit(x)
        again = clone(density).fit(x)
        assert np.array_equal(fitted.sample(5, random_state=1), again.sample(5, random_state=1))
    gaussian = S.GaussianDensity(random_state=7).fit(x)
    first, second = gaussian.sample(4), gaussian.sample(4)
    assert not np.allclose(first, second), "consecutive draws from the instance's generator must differ"
    assert np.allclose(first, S.GaussianDensity(random_state=7).fit(x).sample(4)), "the seed in the constructor"


def test_draw_takes_one_density_name(stats):
    """draw, density_model and Statistics.density share DENSITIES; the error names them."""
    from stochvis.stats.store import DENSITIES

    assert DENSITIES == ("gaussian", "ppca", "lowrank")
    torch.testing.assert_close(sampling.draw(stats, "conv3", 3, seed=1, density="gaussian"),
                               torch.from_numpy(stats.density("conv3/pooled").sample(3, random_state=1)))
    ppca = sampling.draw(stats, "conv3", 3, seed=1, density="ppca", n_components=4)
    torch.testing.assert_close(ppca, torch.from_numpy(
        stats.density("conv3/pooled", "ppca", n_components=4).sample(3, random_state=1)))
    assert sampling.draw(stats, "conv3", 3, density="lowrank", n_components=2).shape == (3, 16)
    with pytest.raises(ValueError, match="gaussian, ppca, lowrank"):
        sampling.draw(stats, "conv3", 2, density="mixture")
    with pytest.raises(ValueError, match="gaussian, ppca, lowrank"):
        stats.density("conv3/pooled", density="kde")
    with pytest.raises(TypeError, match="kind"):
        sampling.draw(stats, "conv3", 2, kind="ppca")  # the second name for the same choice is gone


def test_check_finite_scans_a_feature_once_until_it_changes(stats, monkeypatch):
    from stochvis.stats import store

    copy = store.Statistics({k: v.copy() for k, v in stats.features.items()}, dict(stats.meta))
    scans = []
    real_isfinite = torch.isfinite
    monkeypatch.setattr(store.torch, "isfinite", lambda t: scans.append(t.shape) or real_isfinite(t))
    for _ in range(3):
        store.check_finite(copy, "conv3/pooled")
    assert len(scans) == 2  # mean and m2, once
    copy["conv3/pooled"].mean[0] = float("nan")  # an in-place edit bumps the tensor's version: scanned again
    with pytest.raises(ValueError, match="conv3/pooled.*non-finite"):
        store.check_finite(copy, "conv3/pooled")
