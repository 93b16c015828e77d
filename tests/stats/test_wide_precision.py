"""Wide features (whole-map joints) run their heaviest products in float32: the answers must stay those of
the float64 closed forms, and repeated conditioning must not refactorise."""

from __future__ import annotations

import numpy as np
import torch

from stochvis.stats import density as density_module
from stochvis.stats import moments as moments_module
from stochvis.stats.density import GaussianDensity
from stochvis.stats.moments import FeatureStats


def _planted(d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    loadings = rng.standard_normal((d, 6))
    return loadings @ loadings.T + np.diag(rng.uniform(0.5, 1.5, d))


def test_float32_conditioning_matches_the_float64_closed_form(monkeypatch):
    monkeypatch.setattr(density_module, "FLOAT32_CONDITIONING_ABOVE", 10)  # 40 units count as wide
    covariance, mean = _planted(40), np.linspace(-1, 1, 40)
    model = GaussianDensity(shrinkage=0.0, reg_covar=0.0)._finish(mean, covariance, 100, 0.0)
    given = np.arange(30, 40)
    values = np.random.default_rng(1).standard_normal((3, 10))
    a = np.arange(30)
    gain = covariance[np.ix_(a, given)] @ np.linalg.inv(covariance[np.ix_(given, given)])
    expected_mean = mean[a] + (values - mean[given]) @ gain.T
    expected_cov = covariance[np.ix_(a, a)] - gain @ covariance[np.ix_(given, a)]
    assert model._conditioner(given).factor.dtype == np.float32
    assert np.allclose(model.conditional_mean(values, given=given), expected_mean, rtol=1e-4, atol=1e-4)
    conditional = model.condition(values[:1], given=given)
    assert np.allclose(conditional.covariance_, expected_cov, rtol=1e-4, atol=1e-4)
    draws = model.conditional_sample(np.repeat(values[:1], 20000, 0), given=given, random_state=0)
    assert np.allclose(np.cov(draws.T), expected_cov, atol=0.08 * np.abs(expected_cov).max())


def test_narrow_conditioning_stays_float64_and_is_built_once_per_given(monkeypatch):
    covariance = _planted(12)
    model = GaussianDensity(shrinkage=0.0, reg_covar=0.0)._finish(np.zeros(12), covariance, 100, 0.0)
    built = []
    original = density_module._Conditioner.build
    monkeypatch.setattr(density_module._Conditioner, "build",
                        classmethod(lambda cls, *args: built.append(1) or original.__func__(cls, *args)))
    given = np.arange(8, 12)
    first = model.conditional_sample(np.ones((4, 4)), given=given, random_state=0)
    second = model.conditional_sample(np.ones((4, 4)), given=given, random_state=0)
    model.conditional_mean(np.ones((1, 4)), given=given)
    assert len(built) == 1 and np.array_equal(first, second)
    assert model._conditioner(given).factor.dtype == np.float64
    model.conditional_mean(np.ones((1, 3)), given=np.arange(9, 12))  # another part: built anew
    assert len(built) == 2


def test_wide_comoments_in_float32_equal_the_float64_covariance(monkeypatch):
    monkeypatch.setattr(moments_module, "FLOAT32_PRODUCT_ABOVE", 5)  # 20 units count as wide
    rng = np.random.default_rng(0)
    x = torch.from_numpy(1000.0 + rng.standard_normal((300, 20)) @ rng.standard_normal((20, 20)))  # far from 0
    stats = FeatureStats.of_batch(x[:100])
    for start in (100, 200):
        stats.update(x[start:start + 100])
    expected = np.cov(x.numpy().T, ddof=0)
    assert np.allclose(stats.covariance(ddof=0).numpy(), expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
