"""Langevin sampling: the chain's law on a known Gaussian, the box, the preconditioner, autograd scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stochvis.stats.langevin import gaussian_score, langevin
from stochvis.stats.lowrank import LowRankDensity

MEAN = np.array([1.0, -2.0])
COV = np.array([[1.0, 0.5], [0.5, 1.0]])


def exact_law(mean, cov, step_size, steps, preconditioner=None):
    """Mean and covariance of the unadjusted chain after ``steps`` steps from h₀ = 0.

    With a Gaussian target the update h ← h − εPQ(h − μ) + √(2ε) P^½ ξ is linear, so the law at
    step t is Gaussian with m ← μ + B(m − μ), C ← B C Bᵀ + 2εP, B = I − εPQ, Q = Σ⁻¹.
    """
    P = np.diag(np.ones(len(mean)) if preconditioner is None else preconditioner)
    B = np.eye(len(mean)) - step_size * P @ np.linalg.inv(cov)
    m, C = np.zeros(len(mean)), np.zeros_like(cov)
    for _ in range(steps):
        m, C = mean + B @ (m - mean), B @ C @ B.T + 2 * step_size * P
    return m, C


@pytest.mark.parametrize("scale", [None, np.array([4.0, 0.25])])
def test_chains_reach_the_gaussian_mean_and_covariance(scale):
    # scale=None: Σ = COV, no preconditioner; otherwise Σ = D COV D with D = diag(scale) (variances 16 and
    # 1/16) and P = diag(scale²), so the preconditioned chain sees the same well-conditioned problem.
    mean, cov = MEAN, COV if scale is None else COV * np.outer(scale, scale)
    P = None if scale is None else scale**2
    n, steps, eps = 4000, 400, 0.03
    score = gaussian_score(torch.tensor(mean), covariance=torch.tensor(cov))
    result = langevin(score, torch.zeros(n, 2, dtype=torch.float64), steps=steps, step_size=eps,
                      preconditioner=None if P is None else torch.tensor(P), random_state=0)
    h = result.states.numpy()
    emp_mean, emp_cov = h.mean(0), np.cov(h.T, ddof=0)
    law_mean, law_cov = exact_law(mean, cov, eps, steps, P)
    # Sampling error of n = 4000 independent chains: sd(mean_i) = √(C_ii/n), sd(C_ij) ≈ √((C_ii C_jj + C_ij²)/n);
    # we allow 4.5 sd (deterministic seed; a wrong noise scale √ε vs √(2ε) moves the variances by 50%).
    sd_mean = np.sqrt(np.diag(law_cov) / n)
    sd_cov = np.sqrt((np.outer(np.diag(law_cov), np.diag(law_cov)) + law_cov**2) / n)
    np.testing.assert_array_less(np.abs(emp_mean - law_mean), 4.5 * sd_mean)
    np.testing.assert_array_less(np.abs(emp_cov - law_cov), 4.5 * sd_cov)
    # Against the target itself, add the discretisation bias of this chain: the transient
    # (1 − ε q_min)^400 with q_min = 2/3 (eigenvalues of PQ: those of COV⁻¹) is e^-8 ≈ 3e-4 of the start's
    # distance |D⁻¹μ| ≤ 8 in scaled units, and the stationary variance along an eigen-direction of PQ with
    # eigenvalue q is 1/(q (1 − εq/2)), i.e. ≈ εq/2 ≤ 3% too wide.
    unit = np.ones(2) if scale is None else scale
    bias_mean, bias_cov = np.abs(law_mean - mean), np.abs(law_cov - cov)
    assert np.all(bias_mean <= 3.5e-4 * np.abs(mean / unit).max() * unit)
    assert np.all(bias_cov <= 0.035 * np.outer(unit, unit))
    np.testing.assert_array_less(np.abs(emp_mean - mean), 4.5 * sd_mean + bias_mean)
    np.testing.assert_array_less(np.abs(emp_cov - cov), 4.5 * sd_cov + bias_cov)


def test_box_projection_keeps_every_state_inside():
    score = gaussian_score(torch.tensor([1.0, -1.0]), precision_or_density=torch.eye(2))  # mass mostly outside
    low, high = torch.tensor([-0.3, -0.5]), 0.4
    result = langevin(score, torch.full((200, 2), 5.0), steps=50, step_size=0.1, box=(low, high),
                      random_state=1, record_every=10)
    assert result.trace_steps == [0, 10, 20, 30, 40, 50]
    assert torch.equal(result.trace[-1], result.states)
    for states in (*result.trace, result.states):
        assert torch.all(states >= low) and torch.all(states <= high)
    assert torch.any(result.states[:, 0] == high) and torch.any(result.states[:, 1] == low[1])
    one_sided = langevin(score, torch.zeros(100, 2), steps=20, step_size=0.1, box=(None, 0.0), random_state=1)
    assert torch.all(one_sided.states <= 0)


def test_autograd_score_composes_and_seeds_reproduce():
    precision = torch.tensor([[2.0, 0.3], [0.3, 1.0]])
    analytic = gaussian_score(torch.zeros(2), precision)

    def by_autograd(h: torch.Tensor) -> torch.Tensor:
        h = h.detach().requires_grad_(True)
        log_p = -0.5 * torch.einsum("ni,ij,nj->", h, precision, h)
        return torch.autograd.grad(log_p, h)[0]

    init = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))  # float32 stays float32
    a = langevin(analytic, init, steps=30, step_size=0.05, random_state=3)
    b = langevin(lambda h: by_autograd(h) + 0.0 * analytic(h), init, steps=30, step_size=0.05, random_state=3)
    assert a.states.dtype == torch.float32 and not a.states.requires_grad
    np.testing.assert_allclose(a.states.numpy(), b.states.numpy(), rtol=1e-5, atol=1e-5)
    c = langevin(analytic, init, steps=30, step_size=0.05, random_state=4)
    assert not torch.allclose(a.states, c.states)


def test_gaussian_score_forms_agree_with_the_density():
    rng = np.random.default_rng(0)
    density = LowRankDensity.from_params(rng.standard_normal(9), rng.standard_normal((9, 2)), rng.uniform(0.3, 1, 9))
    X = rng.standard_normal((5, 9))
    expected = density.score_gradient(X)
    got = gaussian_score(density)(torch.tensor(X))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert gaussian_score(density)(torch.tensor(X, dtype=torch.float32)).dtype == torch.float32
    dense_cov = gaussian_score(density.mean_, covariance=density.covariance())(torch.tensor(X))
    dense_precision = gaussian_score(density.mean_, np.linalg.inv(density.covariance()))(torch.tensor(X))
    np.testing.assert_allclose(dense_cov.numpy(), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dense_precision.numpy(), expected, rtol=1e-9, atol=1e-12)
    shifted = gaussian_score(np.zeros(9), density)(torch.tensor(X))
    np.testing.assert_allclose(shifted.numpy(), -np.linalg.solve(density.covariance(), X.T).T, rtol=1e-9, atol=1e-12)
    # a conditional's per-row means broadcast against the states
    conditional = density.condition(slice(6, None), rng.standard_normal((5, 3)))
    np.testing.assert_allclose(gaussian_score(conditional)(torch.tensor(X[:, :6])).numpy(),
                               conditional.score_gradient(X[:, :6]), rtol=1e-10, atol=1e-12)


def test_bad_arguments_are_explained():
    score = gaussian_score(torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="step_size must be positive"):
        langevin(score, torch.zeros(3, 2), step_size=0.0)
    with pytest.raises(ValueError, match="preconditioner must be positive"):
        langevin(score, torch.zeros(3, 2), preconditioner=torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="score returned shape"):
        langevin(lambda h: h.sum(1), torch.zeros(3, 2), steps=1)
    with pytest.raises(ValueError, match="exactly one of"):
        gaussian_score(torch.zeros(2))
    with pytest.raises(ValueError, match=r"must be \(2, 2\)"):
        gaussian_score(torch.zeros(2), torch.eye(3))
