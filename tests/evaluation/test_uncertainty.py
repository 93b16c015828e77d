"""The span Fréchet distance equals the full one, and the jackknife interval and permutation test of a margin tell
a real difference from a draw: rows from one population get an interval around zero and a large p, separated rows a
one-sided interval and a small p; the jackknife's error of a plain mean is the textbook one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stochvis.evaluation import distances, metrics, uncertainty


@pytest.mark.parametrize("shrinkage", ["auto", 0.3, None])
def test_the_span_distance_equals_the_full_one_for_gaussians_fitted_to_few_samples(shrinkage):
    rng = np.random.default_rng(0)
    dim = 64
    real = rng.standard_normal((20, dim)) * rng.uniform(0.5, 2.0, dim)
    own = rng.standard_normal((6, dim)) + 0.4
    fitted = [distances.fit_gaussian(x, shrinkage) for x in (own, real)]
    span = np.concatenate([own - own.mean(0), real - real.mean(0)]).T
    full = distances.frechet_distance_gaussians(*fitted[0], *fitted[1])
    # to 1e-7: a singular covariance (no shrinkage) leaves the full path's D×D eigenvalues round-off square roots
    assert distances.frechet_distance_in_span(*fitted[0], *fitted[1], span) == pytest.approx(full, rel=1e-7)
    reference = metrics.ClassReference({0: torch.as_tensor(real)}, "pool", shrinkage)
    assert reference.frechet_in_span(0, torch.as_tensor(own)) == pytest.approx(reference.frechet(0, torch.as_tensor(own)),
                                                                               rel=1e-7)


def test_the_span_distance_refuses_a_covariance_that_is_not_isotropic_outside_the_span():
    rng = np.random.default_rng(1)
    own, real = rng.standard_normal((5, 32)), rng.standard_normal((8, 32))
    fitted = [distances.fit_gaussian(x) for x in (own, real)]
    with pytest.raises(ValueError, match="not isotropic outside the given span"):
        distances.frechet_distance_in_span(*fitted[0], *fitted[1], (own - own.mean(0)).T)  # the reference's left out


def test_more_samples_than_dimensions_fall_back_to_the_full_distance():
    rng = np.random.default_rng(2)
    own, real = rng.standard_normal((12, 4)), rng.standard_normal((30, 4)) + 1
    fitted = [distances.fit_gaussian(x) for x in (own, real)]
    span = np.concatenate([own - own.mean(0), real - real.mean(0)]).T
    assert distances.frechet_distance_in_span(*fitted[0], *fitted[1], span) == pytest.approx(
        distances.frechet_distance_gaussians(*fitted[0], *fitted[1]), rel=1e-12)


def _rows(shift: float, n: int = 9, kinds: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    first = {k: torch.randn(n, 8, generator=g) for k in range(kinds)}
    second = {k: torch.randn(n, 8, generator=g) + shift for k in range(kinds)}
    return first, second


def _distance_to_origin(kind, feats) -> float:
    return float(feats.mean(0).norm())


def test_rows_from_one_population_are_not_told_apart():
    first, second = _rows(0.0)
    margin = uncertainty.paired_margin(_distance_to_origin, first, second, permutations=300)
    low, high = margin.interval
    assert low < 0 < high
    assert margin.p_value > 0.05


def test_one_value_per_image_is_swapped_as_a_whole():
    """A measure of a scalar per image (N,) and of images (N, C, H, W) is permuted image by image, as features are."""
    g = torch.Generator().manual_seed(6)
    first = {k: torch.randn(8, generator=g) for k in range(2)}
    second = {k: torch.randn(8, generator=g) + 3 for k in range(2)}
    margin = uncertainty.paired_margin(lambda kind, v: float(v.mean()) + 10, first, second, permutations=200)
    assert margin.p_value < 0.01
    images = {k: torch.rand(4, 3, 2, 2, generator=g) for k in range(2)}
    same = uncertainty.paired_margin(lambda kind, v: float(v.mean()), images, images, permutations=20)
    assert same.relative == 0 and same.p_value == 1.0


def test_a_separated_row_is_below_in_every_draw_with_a_small_p():
    first, second = _rows(1.5)
    margin = uncertainty.paired_margin(_distance_to_origin, first, second, permutations=300)
    assert margin.relative < -0.5 and margin.interval[1] < 0
    assert margin.p_value < 0.01
    assert "interval" in margin.line("x: ") and margin.first < margin.second


def test_the_margin_is_the_class_mean_of_the_measure_and_reproducible_by_seed():
    first, second = _rows(0.5)
    margin = uncertainty.paired_margin(_distance_to_origin, first, second, permutations=50, seed=3)
    assert margin.first == pytest.approx(np.mean([_distance_to_origin(k, v) for k, v in first.items()]))
    assert margin == uncertainty.paired_margin(_distance_to_origin, first, second, permutations=50, seed=3)


def test_the_jackknife_error_of_a_plain_mean_is_the_textbook_one():
    """Against a constant row (the measure 1 in every class), the relative difference is the first row's class mean
    minus one, whose standard error is √(Σ s_k² / n_k) / K: the delete-one jackknife gives it exactly."""
    g = torch.Generator().manual_seed(4)
    first = {k: torch.randn(7 + k, 1, generator=g, dtype=torch.float64) + 3 for k in range(3)}
    second = {k: torch.ones(7 + k, 1) for k in range(3)}
    margin = uncertainty.paired_margin(lambda kind, f: float(f[:, 0].mean()), first, second, permutations=10)
    textbook = np.sqrt(sum(float(v.var()) / len(v) for v in first.values())) / 3
    assert margin.standard_error == pytest.approx(textbook, rel=1e-9)
    low, high = margin.interval
    assert high - low == pytest.approx(2 * 1.6448536 * textbook, rel=1e-6)  # level 0.9
    assert low < margin.relative < high


def test_one_rows_error_is_the_textbook_error_of_its_class_mean():
    g = torch.Generator().manual_seed(5)
    sets = {k: torch.randn(6 + k, 1, generator=g, dtype=torch.float64) for k in range(4)}
    value, error = uncertainty.class_mean_and_error(lambda kind, f: float(f[:, 0].mean()), sets)
    assert value == pytest.approx(np.mean([float(v.mean()) for v in sets.values()]))
    assert error == pytest.approx(np.sqrt(sum(float(v.var()) / len(v) for v in sets.values())) / 4, rel=1e-9)
    with pytest.raises(ValueError, match="at least three images"):
        uncertainty.class_mean_and_error(_distance_to_origin, {0: torch.zeros(2, 3)})


def test_each_seed_measures_consecutive_blocks():
    sets = {0: torch.arange(12.0).reshape(6, 2), 1: torch.zeros(6, 2)}
    values = uncertainty.each_seed(lambda kind, f: float(f.sum()), sets, per_seed=3)
    assert values == [pytest.approx((0 + 1 + 2 + 3 + 4 + 5) / 2), pytest.approx((6 + 7 + 8 + 9 + 10 + 11) / 2)]
    with pytest.raises(ValueError, match="whole number of seeds"):
        uncertainty.each_seed(_distance_to_origin, sets, per_seed=4)


@pytest.mark.parametrize("change, message", [
    (lambda a, b: (a, {k: v for k, v in b.items() if k}), "same classes"),
    (lambda a, b: (a, {k: v[:-1] for k, v in b.items()}), "same count"),
])
def test_unpaired_rows_are_refused_with_what_would_do(change, message):
    first, second = change(*_rows(0.0))
    with pytest.raises(ValueError, match=message):
        uncertainty.paired_margin(_distance_to_origin, first, second, permutations=5)


def test_bad_permutations_and_level_are_refused():
    first, second = _rows(0.0)
    with pytest.raises(ValueError, match="permutations must be a positive integer"):
        uncertainty.paired_margin(_distance_to_origin, first, second, permutations=0)
    with pytest.raises(ValueError, match="level must lie in"):
        uncertainty.paired_margin(_distance_to_origin, first, second, level=1.0)
