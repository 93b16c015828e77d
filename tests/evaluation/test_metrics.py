"""Metrics on inputs whose answers are known: identical sets, closed-form Gaussians, noise vs
smooth images, real images vs noise in the committed judge's features."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from stochvis.evaluation import metrics


def _random_spd(dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + 0.1 * np.eye(dim)


def test_frechet_of_identical_sets_is_zero():
    feats = torch.randn(300, 16, generator=torch.Generator().manual_seed(0))
    assert metrics.frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(feats, feats, shrinkage=None) == pytest.approx(0.0, abs=1e-6)
    assert metrics.frechet_distance(feats, feats + 1.0, shrinkage=None) == pytest.approx(16.0, rel=1e-6)


def test_frechet_of_gaussians_matches_closed_forms():
    # diagonal (commuting) covariances: ‖μ1 − μ2‖² + Σ (σ1 − σ2)²
    mean1, mean2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([2.0, 1.0, 0.5])
    expected = np.sum((mean1 - mean2) ** 2) + np.sum((sd1 - sd2) ** 2)
    got = metrics.frechet_distance_gaussians(mean1, np.diag(sd1 ** 2), mean2, np.diag(sd2 ** 2))
    assert got == pytest.approx(expected, rel=1e-9)
    # general covariances: the FID formula with scipy's sqrtm
    cov1, cov2 = _random_spd(6, 1), _random_spd(6, 2)
    mean1, mean2 = np.arange(6.0), np.zeros(6)
    reference = (np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2)
                 - 2 * np.trace(scipy.linalg.sqrtm(cov1 @ cov2).real))
    assert metrics.frechet_distance_gaussians(mean1, cov1, mean2, cov2) == pytest.approx(reference, rel=1e-7)
    assert metrics.frechet_distance_gaussians(mean2, cov2, mean1, cov1) == pytest.approx(reference, rel=1e-7)


def test_frechet_from_samples_approaches_the_closed_form():
    rng = np.random.default_rng(3)
    cov1, cov2 = _random_spd(4, 4), _random_spd(4, 5)
    mean1, mean2 = np.zeros(4), np.full(4, 0.5)
    a = rng.multivariate_normal(mean1, cov1, size=40000)
    b = rng.multivariate_normal(mean2, cov2, size=40000)
    expected = metrics.frechet_distance_gaussians(mean1, cov1, mean2, cov2)
    assert metrics.frechet_distance(torch.from_numpy(a), torch.from_numpy(b), shrinkage=None) == pytest.approx(expected, rel=0.05)
    assert metrics.frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=0.05)


def test_shrinkage_keeps_small_sample_covariances_full_rank():
    few = torch.randn(5, 32, generator=torch.Generator().manual_seed(0))
    _, plain = metrics.fit_gaussian(few, shrinkage=None)
    _, shrunk = metrics.fit_gaussian(few)
    assert np.linalg.matrix_rank(plain) <= 4
    assert np.linalg.matrix_rank(shrunk) == 32
    with pytest.raises(ValueError, match="N >= 2"):
        metrics.fit_gaussian(few[:1])
    with pytest.raises(ValueError, match="shrinkage"):
        metrics.fit_gaussian(few, shrinkage=2.0)


def test_high_frequency_ratio_of_noise_exceeds_smooth_image():
    noise = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    ramp = torch.linspace(0, 1, 28)
    smooth = (torch.sin(ramp * math.pi).view(1, 1, 28, 1) * torch.cos(ramp * math.pi).view(1, 1, 1, 28)).repeat(3, 1, 1, 1)
    noise_ratio, smooth_ratio = metrics.high_frequency_ratio(noise), metrics.high_frequency_ratio(smooth)
    assert noise_ratio.shape == (3,)
    # white noise spreads power evenly: the share above radius 0.25 is the share of that area (≈ 0.80)
    assert noise_ratio.min() > 0.6
    assert smooth_ratio.max() < 0.05
    assert float(metrics.high_frequency_ratio(torch.full((1, 3, 8, 8), 0.5))[0]) == 0.0


def test_border_brightness_reads_the_frame_only():
    images = torch.zeros(2, 1, 10, 10)
    images[0, :, 3:7, 3:7] = 1.0  # a bright object in the middle, dark background
    images[1] = 1.0
    images[1, :, 2:8, 2:8] = 0.0  # a dark object on a bright background (the inverted look)
    values = metrics.border_brightness(images, width=2)
    assert values.tolist() == [0.0, 1.0]
    assert metrics.border_brightness(images, width=3)[1].item() == pytest.approx(64 / 84)  # the inner ring is dark
    with pytest.raises(ValueError, match="width"):
        metrics.border_brightness(images, width=5)


def test_template_correlation_tells_a_look_from_its_negative():
    torch.manual_seed(0)
    template = torch.rand(1, 8, 8)
    images = torch.stack([template, 1 - template, 0.5 * template + 0.2, torch.rand(1, 8, 8)])
    values = metrics.template_correlation(images, template)
    assert values[:3].tolist() == pytest.approx([1.0, -1.0, 1.0], abs=1e-5)  # brightness and contrast do not matter
    assert abs(values[3].item()) < 0.5
    assert torch.allclose(metrics.template_correlation(images, template.expand(4, 1, 8, 8)), values)
    with pytest.raises(ValueError, match="do not match"):
        metrics.template_correlation(images, torch.rand(2, 1, 8, 8))


def test_diversity_and_plausibility_basics():
    feats = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert metrics.diversity(feats) == pytest.approx(5.0)
    assert math.isnan(metrics.diversity(feats[:1]))
    assert metrics.diversity(torch.ones(4, 3)) == 0.0
    scores = metrics.plausibility(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-2.0, 0.0]]), torch.tensor([5.0, 0.0]))
    assert scores.tolist() == pytest.approx([1.0, 0.0, -1.0])


def test_compare_summarize_and_csv_on_a_tiny_model(tiny_model, tmp_path):
    generator = torch.Generator().manual_seed(0)
    real = torch.rand(40, 3, 16, 16, generator=generator)
    labels = torch.arange(40) % 5
    reference = metrics.class_reference(tiny_model, real, labels)
    samples = {
        "noise": {0: torch.rand(6, 3, 16, 16, generator=generator), 1: torch.rand(6, 3, 16, 16, generator=generator)},
        "grey": {0: torch.full((6, 3, 16, 16), 0.5), 1: torch.full((6, 3, 16, 16), 0.5)},
    }
    rows = metrics.compare(samples, subject=tiny_model, judge=tiny_model, reference=reference,
                           seconds_per_image={"noise": 0.5, "grey": {0: 1.0, 1: 3.0}})
    assert [(r["method"], r["class"]) for r in rows] == [("noise", 0), ("noise", 1), ("grey", 0), ("grey", 1)]
    for row in rows:
        assert set(metrics.METRICS) <= set(row)
        assert row["agreement"] == 1.0  # subject and judge are the same network
        assert 0 <= row["target_confidence"] <= 1 and row["fid"] >= 0 and not math.isnan(row["plausibility"])
        feats = metrics.features(tiny_model, samples[row["method"]][row["class"]], reference.layer)
        assert row["kid"] == pytest.approx(metrics.kernel_distance(feats, reference.of(row["class"])))
    grey = [r for r in rows if r["method"] == "grey"]
    assert grey[0]["diversity"] == 0.0 and grey[0]["hf_ratio"] == 0.0
    assert all(math.isnan(r["novelty"]) for r in rows)  # no training bank in the reference: no novelty
    summary = metrics.summarize(rows)
    assert [s["method"] for s in summary] == ["noise", "grey"]
    assert summary[1]["seconds_per_image_mean"] == pytest.approx(2.0)
    assert summary[1]["seconds_per_image_std"] == pytest.approx(math.sqrt(2.0))
    assert summary[0]["seconds_per_image_std"] == 0.0
    text = metrics.format_summary(summary)
    assert text[1]["seconds_per_image"].startswith("2 ± 1.4")
    path = metrics.write_csv(rows, tmp_path / "rows.csv")
    lines = path.read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith("method,class,class_name,n,")
    # without real images the realism columns are NaN but the rest is measured
    bare = metrics.evaluate_class(samples["noise"][0], "class0", subject=tiny_model, judge=tiny_model)
    assert math.isnan(bare["fid"]) and math.isnan(bare["kid"]) and math.isnan(bare["plausibility"])
    assert bare["diversity"] > 0


def test_bad_inputs_name_what_is_valid(tiny_model):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        metrics.target_confidence(tiny_model, torch.rand(2, 1, 16, 16), 0)
    with pytest.raises(IndexError, match="0..4"):
        metrics.target_confidence(tiny_model, torch.rand(2, 3, 16, 16), 7)
    with pytest.raises(KeyError, match="conv"):
        metrics.features(tiny_model, torch.rand(2, 3, 16, 16), layer="conv9")


def test_plausibility_of_real_images_beats_noise():
    from stochvis.data import fashion_mnist
    from stochvis.worlds.fashion import load_judge

    judge = load_judge("cpu")
    images, labels = fashion_mnist("test")
    reference = metrics.class_reference(judge, images[:1000], labels[:1000])
    held_out, held_labels = images[1000:1400], labels[1000:1400]
    noise = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    for target in (0, 1, 7):
        real = held_out[held_labels == target][:20]
        real_feats, noise_feats = metrics.features(judge, real), metrics.features(judge, noise)
        centroid = reference.centroid(target)
        assert metrics.plausibility(real_feats, centroid).mean() > metrics.plausibility(noise_feats, centroid).mean() + 0.2
        real_fid = metrics.frechet_distance_gaussians(*metrics.fit_gaussian(real_feats), *reference.gaussian(target))
        noise_fid = metrics.frechet_distance_gaussians(*metrics.fit_gaussian(noise_feats), *reference.gaussian(target))
        assert real_fid < noise_fid


def test_fit_gaussian_is_the_density_owners_fit_with_fids_conventions():
    """One owner (GaussianDensity); the numbers are the definitions FID uses: Ledoit-Wolf (divisor N) by
    default, and the sample covariance (divisor N − 1) shrunk by a fixed weight."""
    from sklearn.covariance import ledoit_wolf

    from stochvis.stats.density import GaussianDensity

    x = np.random.default_rng(0).normal(size=(40, 12)) @ np.random.default_rng(1).normal(size=(12, 12))
    mean, cov = metrics.fit_gaussian(x)
    np.testing.assert_allclose(cov, ledoit_wolf(x)[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(cov, GaussianDensity("ledoit_wolf", reg_covar=0.0).fit(x).covariance_)
    sample = np.cov(x, rowvar=False)
    for weight in (None, 0.0, 0.3, 1.0):
        expected = (1 - (weight or 0)) * sample + (weight or 0) * np.trace(sample) / 12 * np.eye(12)
        np.testing.assert_allclose(metrics.fit_gaussian(x, weight)[1], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, x.mean(0))
    same = np.ones((4, 3))  # a method whose images all look alike: zero spread, a finite FID
    assert not metrics.fit_gaussian(same)[1].any()
    assert metrics.frechet_distance(torch.from_numpy(same), torch.from_numpy(same + 1.0)) == pytest.approx(3.0)


def test_by_target_groups_a_batch_by_its_targets_in_order():
    images = torch.arange(5.0).reshape(5, 1, 1, 1)
    grouped = metrics.by_target(images, [3, 1, 3, 1, 3])
    assert list(grouped) == [3, 1]
    assert grouped[3].flatten().tolist() == [0.0, 2.0, 4.0] and grouped[1].flatten().tolist() == [1.0, 3.0]
    assert list(metrics.by_target(images, [3, 1, 3, 1, 3], classes=[1, 3])) == [1, 3]


def test_novelty_column_against_the_training_bank(tiny_model):
    generator = torch.Generator().manual_seed(3)
    train, real = torch.rand(30, 3, 16, 16, generator=generator), torch.rand(20, 3, 16, 16, generator=generator)
    train_labels, labels = torch.arange(30) % 2, torch.arange(20) % 2
    reference = metrics.class_reference(tiny_model, real, labels, train=(train, train_labels))
    copies = train[train_labels == 1][:4]
    rows = metrics.compare({"copies": {1: copies}, "new": {1: real[labels == 1][:4]}}, subject=tiny_model,
                           judge=tiny_model, reference=reference)
    assert rows[0]["novelty"] == pytest.approx(0.0, abs=1e-6)  # copies of training images: ratio 0
    bank, held = reference.train[1], reference.of(1)
    expected = metrics.nearest_distance(held[:4], bank).mean() / metrics.nearest_distance(held, bank).mean()
    assert rows[1]["novelty"] == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(KeyError, match="train=\\(images, labels\\)"):
        metrics.class_reference(tiny_model, real, labels).novelty(1, bank)


def test_kernel_distance_is_the_unbiased_mmd_of_the_cubic_kernel_by_hand():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.normal(1.0, 1.0, size=(5, 3))

    def k(a, b):
        return (a @ b / 3 + 1) ** 3

    within_x = sum(k(x[i], x[j]) for i in range(4) for j in range(4) if i != j) / 12
    within_y = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    across = sum(k(a, b) for a in x for b in y) / 20
    assert metrics.kernel_distance(torch.tensor(x), torch.tensor(y)) == pytest.approx(within_x + within_y - 2 * across)
    assert metrics.kernel_distance(x, y) == pytest.approx(metrics.kernel_distance(y, x))
    with pytest.raises(ValueError, match="same D"):
        metrics.kernel_distance(x, y[:, :2])
    with pytest.raises(ValueError, match="N >= 2"):
        metrics.kernel_distance(x[:1], y)


def test_kernel_distance_has_no_small_sample_bias_where_frechet_has():
    # Many pairs of 4-image sets from one Gaussian in 16 dimensions: KID averages to ~0 (its spread shrinks as
    # 1/sqrt(pairs)), FID-like stays far above 0 — the bias that makes few-image FIDs depend on the count
    rng = np.random.default_rng(1)
    kids, fids = [], []
    for _ in range(300):
        a, b = torch.tensor(rng.normal(size=(4, 16))), torch.tensor(rng.normal(size=(4, 16)))
        kids.append(metrics.kernel_distance(a, b))
        fids.append(metrics.frechet_distance(a, b))
    kids, scale = np.array(kids), np.std(kids)
    assert abs(kids.mean()) < 3 * scale / np.sqrt(len(kids))
    assert np.mean(fids) > 10 * np.std(fids) / np.sqrt(len(fids))
    # ... and it grows with a real difference
    shifted = metrics.kernel_distance(torch.tensor(rng.normal(size=(4, 16))), torch.tensor(rng.normal(2.0, 1.0, (4, 16))))
    assert shifted > kids.mean() + 3 * scale


def test_a_reference_measures_the_frechet_distance_with_its_square_root_taken_once():
    generator = np.random.default_rng(0)
    real = torch.from_numpy(generator.normal(size=(40, 24)))
    labels = torch.arange(40) % 2
    reference = metrics.ClassReference({0: real[labels == 0], 1: real[labels == 1]}, "pool")
    for shift in (0.0, 0.5, 2.0):
        feats = torch.from_numpy(generator.normal(size=(5, 24)) + shift)
        expected = metrics.frechet_distance_gaussians(*metrics.fit_gaussian(feats), *reference.gaussian(1))
        assert reference.frechet(1, feats) == pytest.approx(expected, rel=1e-9)
    assert set(reference._roots) == {1}  # one root for the class, kept for every set measured against it
    root = reference._roots[1]
    assert np.allclose(root @ root, reference.gaussian(1)[1], atol=1e-10)
    with pytest.raises(KeyError, match="classes \\[0, 1\\]"):
        reference.frechet(2, feats)


def test_features_and_probabilities_from_one_forward_are_the_two_measures(tiny_model, tiny_images):
    calls = []
    handle = tiny_model.net.features[0].register_forward_hook(lambda *_: calls.append(1))
    feats, probs = metrics.features_and_probabilities(tiny_model, tiny_images, "conv1", pooled=True)
    handle.remove()
    assert len(calls) == 1  # one forward pass for both
    assert torch.equal(feats, metrics.features(tiny_model, tiny_images, "conv1", pooled=True))
    assert torch.equal(probs, metrics.probabilities(tiny_model, tiny_images))
    flat, _ = metrics.features_and_probabilities(tiny_model, tiny_images, "conv1")
    assert torch.equal(flat, metrics.features(tiny_model, tiny_images, "conv1"))
    mass, top1 = metrics.class_set_scores(tiny_model, tiny_images, [0, 2], probs=probs)
    assert torch.equal(mass, metrics.class_set_mass(tiny_model, tiny_images, [0, 2]))
    assert torch.equal(top1, metrics.top1_in_set(tiny_model, tiny_images, [0, 2]))


def test_a_references_realism_columns_are_the_measures_and_say_nan_where_they_cannot_be_taken():
    generator = np.random.default_rng(1)
    real = torch.from_numpy(generator.normal(size=(30, 16))).float()
    bank = torch.from_numpy(generator.normal(size=(20, 16))).float()
    feats = torch.from_numpy(generator.normal(size=(6, 16)) + 0.3).float()
    with_bank = metrics.ClassReference({"birds": real}, "pool", train={"birds": bank})
    columns = with_bank.realism("birds", feats)
    assert columns == {
        "fid": pytest.approx(metrics.frechet_distance(feats, real)),
        "kid": metrics.kernel_distance(feats, real),
        "plausibility": pytest.approx(float(metrics.plausibility(feats, real.mean(0)).mean())),
        "diversity": metrics.diversity(feats), "real_diversity": metrics.diversity(real),
        "novelty": metrics.novelty(feats, bank, real)}
    one = metrics.ClassReference({"birds": real}, "pool").realism("birds", feats[:1])
    assert math.isnan(one["fid"]) and math.isnan(one["kid"]) and math.isnan(one["diversity"])
    assert math.isnan(one["novelty"])  # no training bank: no novelty
    assert not math.isnan(one["plausibility"])
