"""LowRankDensity: the Woodbury algebra against dense formulas, EM against a planted model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.exceptions import NotFittedError

from stochvis.stats import lowrank
from stochvis.stats.lowrank import LowRankDensity, top_eigenpairs


def planted(d: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(d), rng.standard_normal((d, k)), rng.uniform(0.2, 1.0, d)


def draw(mean, W, psi, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return mean + rng.standard_normal((n, W.shape[1])) @ W.T + np.sqrt(psi) * rng.standard_normal((n, len(mean)))


def dense(W, psi) -> np.ndarray:
    return W @ W.T + np.diag(psi)


@pytest.fixture
def small() -> LowRankDensity:
    return LowRankDensity.from_params(*planted(12, 3, seed=0), random_state=0)


@pytest.mark.parametrize("given", [slice(7, None), np.array([0, 3, 5, 11])])
def test_condition_matches_dense_schur_complement(small, given):
    cov, mean = small.covariance(), small.mean_
    b = np.arange(12)[given]
    a = np.setdiff1d(np.arange(12), b)
    values = np.random.default_rng(1).standard_normal((4, len(b)))
    gain = np.linalg.solve(cov[np.ix_(b, b)], cov[np.ix_(b, a)]).T  # Σ_ab Σ_bb⁻¹
    expected_means = mean[a] + (values - mean[b]) @ gain.T
    expected_cov = cov[np.ix_(a, a)] - gain @ cov[np.ix_(b, a)]

    conditional = small.condition(given, values)
    np.testing.assert_array_equal(conditional.index_, a)
    np.testing.assert_allclose(conditional.mean_, expected_means, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(conditional.covariance(), expected_cov, rtol=1e-8, atol=1e-8)
    # row i is scored under condition i
    x = expected_means + 0.3
    expected_logpdf = [sps.multivariate_normal(m, expected_cov).logpdf(row) for m, row in zip(expected_means, x)]
    np.testing.assert_allclose(conditional.score_samples(x), expected_logpdf, rtol=1e-10)
    assert conditional.sample().shape == (4, len(a))
    assert conditional.sample(5, random_state=0).shape == (5, 4, len(a))


def test_fit_from_moments_recovers_planted_covariance():
    d, k, n = 20, 3, 20_000
    mean, W, psi = planted(d, k, seed=2)
    X = draw(mean, W, psi, n, seed=3)
    model = LowRankDensity.from_moments(X.mean(0), np.cov(X.T, ddof=0), n, n_components=k)
    truth = dense(W, psi)
    assert np.linalg.norm(model.covariance() - truth) / np.linalg.norm(truth) < 0.1
    assert model.converged_ and model.n_samples_ == n and model.n_features_in_ == d
    # the likelihood tracked from the moments is the data's average log-likelihood
    assert model.log_likelihood_ == pytest.approx(model.score(X), abs=1e-8)
    # ML on the training data: at least the true model's, by about (#params)/(2n) ≈ 0.002 nats
    true_ll = sps.multivariate_normal(mean, truth).logpdf(X).mean()
    assert -1e-4 < model.score(X) - true_ll < 0.01
    held_out = draw(mean, W, psi, 2000, seed=4)
    assert abs(model.score(held_out) - sps.multivariate_normal(mean, truth).logpdf(held_out).mean()) < 0.05


def test_fit_on_raw_vectors_equals_fit_from_moments():
    X = draw(*planted(10, 2, seed=5), 300, seed=6)
    raw = LowRankDensity(n_components=2).fit(X)
    moments = LowRankDensity.from_moments(X.mean(0), np.cov(X.T, ddof=0), len(X), n_components=2)
    np.testing.assert_allclose(raw.covariance(), moments.covariance(), rtol=1e-9)
    np.testing.assert_allclose(raw.mean_, X.mean(0))


def test_isotropic_noise_is_ppca_closed_form():
    d, k = 15, 4
    X = draw(*planted(d, k, seed=7), 400, seed=8)
    S = np.cov(X.T, ddof=0)
    model = LowRankDensity(n_components=k, noise="isotropic").fit(X)
    values, vectors = np.linalg.eigh(S)
    values, vectors = values[::-1], vectors[:, ::-1]
    sigma2 = values[k:].mean()  # Tipping & Bishop: the mean discarded eigenvalue
    np.testing.assert_allclose(model.noise_variance_, sigma2, rtol=1e-8)
    expected = vectors[:, :k] @ np.diag(values[:k] - sigma2) @ vectors[:, :k].T + sigma2 * np.eye(d)
    np.testing.assert_allclose(model.covariance(), expected, rtol=1e-7, atol=1e-9)


def test_score_samples_mahalanobis_and_gradient_match_dense(small):
    X = np.random.default_rng(9).standard_normal((6, 12)) * 2
    cov, mean = small.covariance(), small.mean_
    np.testing.assert_allclose(small.score_samples(X), sps.multivariate_normal(mean, cov).logpdf(X), rtol=1e-10)
    centred = X - mean
    np.testing.assert_allclose(small.score_gradient(X), -np.linalg.solve(cov, centred.T).T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(small.mahalanobis(X), np.sqrt(np.einsum("ni,ij,nj->n", centred, np.linalg.inv(cov), centred)),
                               rtol=1e-9)


def test_marginal_is_the_dense_sub_block(small):
    marginal = small.marginal(slice(2, 9))
    np.testing.assert_allclose(marginal.covariance(), small.covariance()[2:9, 2:9], rtol=1e-12)
    np.testing.assert_allclose(marginal.mean_, small.mean_[2:9])


def test_subspace_iteration_agrees_with_dense_eigh(monkeypatch):
    rng = np.random.default_rng(10)
    basis, _ = np.linalg.qr(rng.standard_normal((200, 200)))
    spectrum = np.r_[np.linspace(50, 20, 6), rng.uniform(0.5, 1.5, 194)]
    S = (basis * spectrum) @ basis.T
    exact_values, exact_vectors = top_eigenpairs(S, 6, rng)
    monkeypatch.setattr(lowrank, "DENSE_EIGH_LIMIT", 10)
    values, vectors = top_eigenpairs(S, 6, np.random.default_rng(0))
    np.testing.assert_allclose(values, exact_values, rtol=1e-8)
    np.testing.assert_allclose(np.abs(np.sum(vectors * exact_vectors, 0)), 1.0, atol=1e-8)  # same vectors up to sign
    # and a whole fit through that path reaches the same optimum as the exact path
    X = draw(*planted(40, 3, seed=11), 500, seed=12)
    large_path = LowRankDensity(n_components=3, random_state=0).fit(X)
    monkeypatch.setattr(lowrank, "DENSE_EIGH_LIMIT", 1500)
    assert large_path.log_likelihood_ == pytest.approx(LowRankDensity(n_components=3).fit(X).log_likelihood_, abs=1e-4)


def test_sampling_is_reproducible_differs_between_calls_and_rectifies(small):
    again = LowRankDensity.from_params(small.mean_, small.components_, small.noise_variance_, random_state=0)
    first, second = small.sample(3), small.sample(3)
    np.testing.assert_array_equal(first, again.sample(3))
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(small.sample(4, random_state=5), small.sample(4, random_state=5))
    rectified = LowRankDensity.from_params(small.mean_, small.components_, small.noise_variance_, rectify=True)
    draws = rectified.sample(50, random_state=1)
    np.testing.assert_array_equal(draws, np.maximum(small.sample(50, random_state=1), 0))
    assert (draws == 0).any() and (draws >= 0).all()
    assert (rectified.condition(slice(6, None), np.zeros(6)).sample(20, random_state=2) >= 0).all()


def test_unfitted_and_bad_arguments_are_explained():
    model = LowRankDensity(n_components=3)
    for call in (lambda: model.score_samples(np.zeros((1, 5))), lambda: model.sample(2),
                 lambda: model.condition(slice(0, 2), np.zeros(2))):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()
    X = np.random.default_rng(0).standard_normal((30, 5))
    for bad in (0, 5, 2.5):
        with pytest.raises(ValueError, match=r"n_components must be an integer in 1\.\.4"):
            LowRankDensity(n_components=bad).fit(X)
    with pytest.raises(ValueError, match="noise must be one of"):
        LowRankDensity(n_components=2, noise="full").fit(X)
    with pytest.raises(ValueError, match=r"covariance \(d, d\)"):
        LowRankDensity.from_moments(np.zeros(5), np.eye(4), 10, n_components=2)
    with pytest.raises(ValueError, match="symmetric"):
        LowRankDensity.from_moments(np.zeros(5), np.eye(5) + np.triu(np.ones((5, 5)), 1), 10, n_components=2)
    fitted = LowRankDensity(n_components=2).fit(X)
    with pytest.raises(ValueError, match="dimension 5"):
        fitted.score_samples(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        fitted.condition(slice(3, None), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="between 1 and 4"):
        fitted.condition(slice(None), np.zeros((1, 5)))


def test_em_warns_when_stopped_early_and_is_a_scikit_learn_estimator():
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    X = draw(*planted(10, 2, seed=13), 200, seed=14)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        one = LowRankDensity(n_components=2, max_iter=1, tol=0.0).fit(X)
    assert one.n_iter_ == 1 and not one.converged_
    full = clone(one).set_params(max_iter=500, tol=1e-6).fit(X)
    assert full.converged_ and full.log_likelihood_ >= one.log_likelihood_
