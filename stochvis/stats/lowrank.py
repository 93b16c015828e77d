"""A Gaussian with low-rank-plus-diagonal covariance, Σ = W Wᵀ + diag(ψ), fitted from streamed moments.

Why: class-conditional statistics of whole activation maps have several thousand dimensions
(conv3 of a small network: 56·56 = 3136 per channel, joint layer-k/k+1 vectors more), while a
class has a few hundred to a few thousand images. A full covariance is then singular or badly
estimated, and every use of it (log-likelihood, score, conditioning, sampling) costs O(d³).
Factor analysis keeps the few directions along which the units co-vary (W, d×k) plus one noise
variance per unit (ψ), has d(k+1) parameters instead of d(d+1)/2, is always invertible, and every
operation below goes through the Woodbury identity and the matrix determinant lemma in O(d k²)
per vector — no d×d inverse or factorisation is ever formed.

Fitting uses only the count, mean and ML covariance S (what :class:`~stochvis.stats.moments.FeatureStats`
streams and merges exactly), so a model is refitted from a saved statistics file without the
images. EM for factor analysis needs S alone (Rubin & Thayer 1982; Ghahramani & Hinton 1996):

    β = Wᵀ(WWᵀ + Ψ)⁻¹ = (I + WᵀΨ⁻¹W)⁻¹ WᵀΨ⁻¹          (Woodbury: k×k solves only)
    W ← S βᵀ (I − βW + β S βᵀ)⁻¹,   ψ ← diag(S − W β S)

One iteration costs one d×d by d×k product, O(d²k). It starts from probabilistic PCA's closed
form (Tipping & Bishop 1999: top-k eigenvectors of S), which is also the exact answer for
``noise="isotropic"`` (the same EM with ψ tied across units then only polishes it).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from stochvis.features import find_part
from stochvis.stats.density import call_generator

# Up to this dimension the PPCA initialisation uses an exact partial eigendecomposition
# (O(d³), ~1 s at d=1500); above it, subspace iteration (O(d²k) per sweep).
DENSE_EIGH_LIMIT = 1500
_NOISE_KINDS = ("diagonal", "isotropic")
Index = slice | Sequence[int] | np.ndarray | str
RandomState = int | np.random.Generator | None


def _as_float64(x: Any, name: str, check_finite: bool = True) -> np.ndarray:
    """numpy float64 view of an array or a (CPU or GPU) torch tensor, without importing torch."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().double().numpy()
    array = np.asarray(x, dtype=np.float64)
    if check_finite and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def top_eigenpairs(S: np.ndarray, k: int, rng: np.random.Generator, *, max_sweeps: int = 60,
                   rtol: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenvalues (descending) and eigenvectors of the symmetric matrix S.

    Exact (LAPACK, partial) for d ≤ ``DENSE_EIGH_LIMIT``; above it block subspace iteration with
    Rayleigh–Ritz, stopped when every Ritz residual ‖S v − θ v‖ ≤ rtol·θ₁, so the cost is O(d²k)
    per sweep instead of O(d³). Without a spectral gap after k it may stop at ``max_sweeps`` with
    a slightly rotated subspace, which is harmless: it only starts EM.
    """
    d = S.shape[0]
    if d <= DENSE_EIGH_LIMIT:
        values, vectors = linalg.eigh(S, subset_by_index=[d - k, d - 1])
        return values[::-1].copy(), vectors[:, ::-1].copy()
    block = min(d, k + max(10, k // 2))
    Q, _ = linalg.qr(S @ rng.standard_normal((d, block)), mode="economic")
    for _ in range(max_sweeps):
        Y = S @ Q
        theta, U = linalg.eigh(Q.T @ Y)
        theta, U = theta[::-1][:k], U[:, ::-1]
        residual = Y @ U[:, :k] - (Q @ U[:, :k]) * theta
        if np.linalg.norm(residual, axis=0).max() <= rtol * max(abs(theta[0]), np.finfo(float).tiny):
            break
        Q, _ = linalg.qr(Y @ U, mode="economic")  # Ritz-ordered basis of S·Q
    return theta.copy(), Q @ U[:, :k]


def _resolve_index(index: Index, d: int, parts: Sequence[tuple[str, int, int]], *, allow_all: bool = False) -> np.ndarray:
    if isinstance(index, str):
        found = find_part(parts, index)
        if found is not None:
            return np.arange(*found)
        raise ValueError(f"no part {index!r}; parts: {', '.join(p for p, _, _ in parts) or 'none'} "
                         "(or pass a slice or an index array)")
    if isinstance(index, slice):
        out = np.arange(d)[index]
    else:
        out = np.asarray(index)
        if out.dtype == bool:
            if out.shape != (d,):
                raise ValueError(f"a boolean mask must have shape ({d},), got {out.shape}")
            out = np.flatnonzero(out)
        elif out.ndim != 1 or (out.size and not np.issubdtype(out.dtype, np.integer)):
            raise ValueError("given must be a slice, a part name, a boolean mask or a 1-D integer index array")
        out = out.astype(np.int64)
    if out.size and (out.min() < -d or out.max() >= d):
        raise ValueError(f"indices must lie in [0, {d}), got {out.min()}..{out.max()}")
    out = np.sort(out % d)
    if len(np.unique(out)) != len(out):
        raise ValueError("given contains repeated indices")
    most = d if allow_all else d - 1
    if not 0 < len(out) <= most:
        raise ValueError(f"the index must select between 1 and {most} of the {d} units, selected {len(out)}")
    return out


class LowRankGaussian:
    """A Gaussian with low-rank-plus-diagonal covariance W Wᵀ + Ψ (the fitted density and its conditionals):
    Woodbury machinery shared by the fitted density and its conditionals.

    Needs ``mean_`` (…, d), ``components_`` W (d, k), ``noise_variance_`` ψ (d,), ``rectify`` and
    ``_factors`` from :meth:`_factorise`: Ψ⁻¹W (d, k), the Cholesky factor L of I + WᵀΨ⁻¹W, and
    log|Σ| = Σ log ψ + 2 Σ log diag L (matrix determinant lemma).
    """

    mean_: np.ndarray
    components_: np.ndarray
    noise_variance_: np.ndarray
    rectify: bool

    def check_fitted(self) -> None:
        if not hasattr(self, "components_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(X), or build it with "
                                 f"{type(self).__name__}.from_moments(mean, covariance, count), before using it.")

    @property
    def factors(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(Ψ⁻¹W, L, log|Σ|) of the fitted model: what an analytic score (:func:`stochvis.stats.langevin.gaussian_score`) reuses."""
        self.check_fitted()
        return self._factors

    def _factorise(self) -> None:
        W, psi = self.components_, self.noise_variance_
        scaled = W / psi[:, None]
        inner = np.eye(W.shape[1]) + W.T @ scaled
        chol = linalg.cholesky(inner, lower=True)
        log_det = float(np.log(psi).sum() + 2 * np.log(np.diag(chol)).sum())
        self._factors = (scaled, chol, log_det)

    @property
    def _dim(self) -> int:
        return self.components_.shape[0]

    def _centred(self, X: Any) -> np.ndarray:
        self.check_fitted()
        X = _as_float64(X, "X")
        if X.ndim == 0 or X.shape[-1] != self._dim:
            raise ValueError(f"expected vectors of dimension {self._dim} (last axis), got shape {X.shape}")
        return X - self.mean_

    def _precision_times(self, D: np.ndarray) -> np.ndarray:
        """Σ⁻¹ D along the last axis: Ψ⁻¹D − Ψ⁻¹W (I + WᵀΨ⁻¹W)⁻¹ WᵀΨ⁻¹D."""
        scaled, chol, _ = self._factors
        inner = linalg.cho_solve((chol, True), (D @ scaled).reshape(-1, chol.shape[0]).T).T
        return D / self.noise_variance_ - inner.reshape(D.shape[:-1] + (-1,)) @ scaled.T

    def _squared_mahalanobis(self, D: np.ndarray) -> np.ndarray:
        scaled, chol, _ = self._factors
        projected = linalg.solve_triangular(chol, (D @ scaled).reshape(-1, chol.shape[0]).T, lower=True)
        quad = (D * D / self.noise_variance_).sum(-1) - (projected**2).sum(0).reshape(D.shape[:-1])
        return np.maximum(quad, 0.0)

    def mahalanobis(self, X: Any) -> np.ndarray:
        """√((x − μ)ᵀ Σ⁻¹ (x − μ)) per vector, in O(d k) each."""
        return np.sqrt(self._squared_mahalanobis(self._centred(X)))

    def score_samples(self, X: Any) -> np.ndarray:
        """Exact log-density of each vector (Woodbury for the quadratic form, determinant lemma for log|Σ|)."""
        D = self._centred(X)
        return -0.5 * (self._squared_mahalanobis(D) + self._factors[2] + self._dim * math.log(2 * math.pi))

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-density (scikit-learn's convention for density estimators)."""
        return float(np.mean(self.score_samples(X)))

    def score_gradient(self, X: Any) -> np.ndarray:
        """∇ₓ log p(x) = −Σ⁻¹(x − μ): the analytic score a Langevin sampler follows."""
        return -self._precision_times(self._centred(X))

    def covariance(self) -> np.ndarray:
        """The dense Σ = W Wᵀ + diag(ψ), d×d: for small d and tests only."""
        self.check_fitted()
        cov = self.components_ @ self.components_.T
        cov[np.diag_indices_from(cov)] += self.noise_variance_
        return cov

    def _draw(self, mean: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """μ + W z + √ψ ε for z ~ N(0, I_k), ε ~ N(0, I_d), rectified when asked."""
        W = self.components_
        z = rng.standard_normal(shape + (W.shape[1],))
        eps = rng.standard_normal(shape + (W.shape[0],))
        x = mean + z @ W.T + np.sqrt(self.noise_variance_) * eps
        return np.maximum(x, 0.0) if self.rectify else x


class LowRankDensity(BaseEstimator, LowRankGaussian):
    """N(μ, W Wᵀ + diag(ψ)): factor analysis (``noise="diagonal"``) or PPCA (``noise="isotropic"``).

    Hyperparameters: ``n_components`` k (1 ≤ k < d), ``noise``, ``max_iter`` EM iterations (0 keeps
    the PPCA initialisation), ``tol`` (stop when the average log-likelihood per vector grows by
    less than ``tol·d`` nats in one iteration), ``random_state`` (an int, a numpy Generator or None:
    seeds the subspace iteration of large-d fits and the draws of :meth:`sample`), ``rectify``.

    ``rectify=True``: the statistics describe post-ReLU units and draws are passed through
    max(0, ·) in :meth:`sample` and in conditional samples. A Gaussian is a poor model of
    rectified units (a point mass at 0 plus a positive part); the honest way is to collect
    pre-ReLU statistics, model those, and rectify the draw — this flag is that last step, and it
    touches only sampling (likelihoods and scores are those of the Gaussian itself).

    Fitted attributes: ``mean_`` (d,), ``components_`` W (d, k), ``noise_variance_`` ψ (d,),
    ``n_samples_``, ``n_features_in_``, ``n_iter_``, ``log_likelihood_`` (average per vector on the
    fitting data, from the moments), ``converged_``, ``fit_seconds_`` and ``parts_`` (name, start,
    stop) slices of a joint vector, usable as ``given`` in :meth:`condition`.
    """

    def __init__(self, n_components: int = 10, noise: str = "diagonal", max_iter: int = 500, tol: float = 1e-6,
                 random_state: RandomState = None, rectify: bool = False) -> None:
        self.n_components = n_components
        self.noise = noise
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.rectify = rectify

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> LowRankDensity:
        """Fit on raw vectors X (n, d): computes the count, mean and ML covariance, then :meth:`fit_moments`."""
        X = _as_float64(X, "X")
        if X.ndim != 2 or len(X) < 1:
            raise ValueError(f"X must be a non-empty 2-D array (n_samples, n_features), got shape {X.shape}")
        mean = X.mean(0)
        centred = X - mean
        return self.fit_moments(mean, centred.T @ centred / len(X), len(X))

    @classmethod
    def from_moments(cls, mean: Any, covariance: Any, count: int, *, parts: Sequence[tuple[str, int, int]] = (),
                     **params: Any) -> LowRankDensity:
        """A fitted density from streamed statistics: ``mean`` (d,), ML ``covariance`` (d, d) and ``count``.

        ``params`` are the constructor's hyperparameters; ``parts`` name slices of a joint vector.
        """
        return cls(**params).fit_moments(mean, covariance, count, parts=parts)

    @classmethod
    def from_stats(cls, stats: Any, **params: Any) -> LowRankDensity:
        """From a ``FeatureStats`` (anything with ``mean``, ``covariance(ddof=0)``, ``count``, ``parts``)."""
        return cls.from_moments(stats.mean, stats.covariance(ddof=0), stats.count,
                                parts=list(getattr(stats, "parts", ())), **params)

    @classmethod
    def from_params(cls, mean: Any, components: Any, noise_variance: Any, *, count: int = 0,
                    parts: Sequence[tuple[str, int, int]] = (), **params: Any) -> LowRankDensity:
        """A density with given μ (d,), W (d, k) and ψ (d,) — to reload a model or build a known one."""
        mean, W = _as_float64(mean, "mean"), _as_float64(components, "components")
        psi = np.broadcast_to(_as_float64(noise_variance, "noise_variance"), mean.shape).copy()
        if mean.ndim != 1 or W.ndim != 2 or W.shape[0] != len(mean):
            raise ValueError(f"need mean (d,) and components (d, k); got {mean.shape} and {W.shape}")
        if np.any(psi <= 0):
            raise ValueError("noise_variance must be positive")
        params.setdefault("n_components", W.shape[1])
        model = cls(**params)
        model._set(mean, W, psi, count, parts, n_iter=0, log_likelihood=float("nan"), converged=True)
        return model

    def _validate(self, d: int) -> int:
        k = self.n_components
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < d:
            raise ValueError(f"n_components must be an integer in 1..{d - 1} for {d}-dimensional vectors, got {k!r}")
        if self.noise not in _NOISE_KINDS:
            raise ValueError(f"noise must be one of {_NOISE_KINDS}, got {self.noise!r}")
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 0:
            raise ValueError(f"max_iter must be a non-negative integer, got {self.max_iter!r}")
        if not self.tol >= 0:
            raise ValueError(f"tol must be non-negative, got {self.tol!r}")
        return int(k)

    def fit_moments(self, mean: Any, covariance: Any, count: int, *,
                    parts: Sequence[tuple[str, int, int]] = ()) -> LowRankDensity:
        """Fit from the count, mean (d,) and symmetric ML covariance (d, d) by EM, in place; returns self."""
        started = time.perf_counter()
        # S may be ~1 GB at d = 10⁴: nothing below makes a d×d temporary (checks go through S @ probe).
        mean, S = _as_float64(mean, "mean"), _as_float64(covariance, "covariance", check_finite=False)
        d = mean.shape[0] if mean.ndim == 1 else -1
        if d < 2 or S.shape != (d, d):
            raise ValueError(f"need mean (d,) with d ≥ 2 and covariance (d, d); got {mean.shape} and {S.shape}")
        if int(count) < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        k = self._validate(d)
        rng = np.random.default_rng(self.random_state)
        diag = np.diag(S).copy()
        probe = rng.standard_normal(d)  # finiteness and symmetry in O(d²) time and O(d) memory
        left, right = S @ probe, probe @ S
        if not np.all(np.isfinite(left)):
            raise ValueError("covariance contains NaN or infinite values")
        if not np.allclose(left, right, rtol=1e-8, atol=1e-10 * np.abs(diag).max()):
            raise ValueError("covariance must be symmetric")
        floor = 1e-6 * diag.mean()
        if not floor > 0:
            raise ValueError("the covariance has no variance (zero trace): nothing to model")

        values, vectors = top_eigenpairs(S, k, rng)
        sigma2 = max((diag.sum() - values.sum()) / (d - k), floor)
        W = vectors * np.sqrt(np.clip(values - sigma2, 0.0, None))
        psi = np.full(d, sigma2) if self.noise == "isotropic" else np.maximum(diag - (W**2).sum(1), floor)

        log_2pi = d * math.log(2 * math.pi)
        previous, converged, n_iter = -np.inf, False, 0
        while True:
            # E-step: β = (I + WᵀΨ⁻¹W)⁻¹ WᵀΨ⁻¹, and S βᵀ, the only O(d²k) product.
            scaled = W / psi[:, None]
            chol = linalg.cholesky(np.eye(k) + W.T @ scaled, lower=True)
            beta = linalg.cho_solve((chol, True), scaled.T)
            S_beta = S @ beta.T
            # log-likelihood of the current (W, ψ) from the moments: tr(Σ⁻¹S) = Σ Sᵢᵢ/ψᵢ − tr(AᵀSβᵀ)
            trace = (diag / psi).sum() - np.sum(scaled * S_beta)
            log_likelihood = -0.5 * (log_2pi + np.log(psi).sum() + 2 * np.log(np.diag(chol)).sum() + trace)
            if log_likelihood - previous < self.tol * d:
                converged = True
                break
            if n_iter >= self.max_iter:
                break
            previous = log_likelihood
            # M-step: W ← Sβᵀ (I − βW + βSβᵀ)⁻¹, ψ ← diag(S − W β S) (tied for PPCA), floored.
            second_moment = np.eye(k) - beta @ W + beta @ S_beta
            W = linalg.solve(second_moment, S_beta.T, assume_a="pos").T
            psi = diag - np.sum(W * S_beta, axis=1)
            if self.noise == "isotropic":
                psi = np.full(d, psi.mean())
            psi = np.maximum(psi, floor)
            n_iter += 1
        if not converged and self.max_iter > 0:
            warnings.warn(f"LowRankDensity: EM stopped after max_iter={self.max_iter} iterations without "
                          f"converging to tol={self.tol}; increase max_iter or tol", ConvergenceWarning, stacklevel=2)
        self._set(mean, W, psi, count, parts, n_iter=n_iter, log_likelihood=float(log_likelihood),
                  converged=converged or self.max_iter == 0)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _set(self, mean, W, psi, count, parts, *, n_iter, log_likelihood, converged) -> None:
        self.mean_ = mean
        self.components_ = W
        self.noise_variance_ = psi
        self.n_samples_ = int(count)
        self.n_features_in_ = len(mean)
        self.n_iter_ = n_iter
        self.log_likelihood_ = log_likelihood
        self.converged_ = converged
        self.parts_ = [(str(name), int(start), int(stop)) for name, start, stop in parts]
        self._rng = np.random.default_rng(self.random_state)
        self._factorise()

    # -- sampling, marginals, conditionals --------------------------------------------------------
    def _generator(self, random_state: RandomState) -> np.random.Generator:
        return call_generator(self._rng, random_state)

    def sample(self, n_samples: int = 1, random_state: RandomState = None) -> np.ndarray:
        """``n_samples`` draws (n_samples, d): μ + W z + √ψ ε, rectified when ``rectify``.

        Without ``random_state`` the draws come from a Generator seeded by the constructor's
        ``random_state`` at fit time and kept on the instance: consecutive calls differ, a refit
        with the same seed repeats them.
        """
        self.check_fitted()
        if int(n_samples) < 0:
            raise ValueError(f"n_samples must be non-negative, got {n_samples}")
        return self._draw(self.mean_, (int(n_samples),), self._generator(random_state))

    def marginal(self, index: Index) -> LowRankDensity:
        """The density of a subset of units (a slice, indices, a mask or a part name): rows of μ, W and ψ."""
        self.check_fitted()
        idx = _resolve_index(index, self.n_features_in_, self.parts_, allow_all=True)
        return LowRankDensity.from_params(self.mean_[idx], self.components_[idx], self.noise_variance_[idx],
                                          count=self.n_samples_, **self.get_params())

    def condition(self, given: Index, values: Any) -> LowRankConditional:
        """p(x_a | x_b = values) for the units a not in ``given`` (b), one conditional per row of ``values``.

        ``given``: a slice, an index array, a boolean mask or a part name (a joint vector
        [layer k ; layer k+1] conditions on ``slice(d_k, None)``). ``values``: (n, d_b) or (d_b,).
        With M = (I + W_bᵀΨ_b⁻¹W_b)⁻¹, exactly:

            mean  = μ_a + W_a M W_bᵀ Ψ_b⁻¹ (x_b − μ_b)        (= μ_a + Σ_ab Σ_bb⁻¹ (x_b − μ_b))
            cov   = Ψ_a + W_a M W_aᵀ                          (= Σ_aa − Σ_ab Σ_bb⁻¹ Σ_ba)

        again low-rank plus diagonal, with components W_a L⁻ᵀ where I + W_bᵀΨ_b⁻¹W_b = L Lᵀ; the
        cost is O(d k²) plus O(n d k) for the means.
        """
        self.check_fitted()
        d = self.n_features_in_
        b = _resolve_index(given, d, self.parts_)
        a = np.setdiff1d(np.arange(d), b)
        values = _as_float64(values, "values")
        if values.ndim == 1:
            values = values[None, :]
        if values.ndim != 2 or values.shape[1] != len(b):
            raise ValueError(f"values must have shape (n, {len(b)}) for the {len(b)} given units, got {values.shape}")
        W_a, W_b, psi_b = self.components_[a], self.components_[b], self.noise_variance_[b]
        scaled_b = W_b / psi_b[:, None]
        chol = linalg.cholesky(np.eye(W_b.shape[1]) + W_b.T @ scaled_b, lower=True)
        gain_inner = linalg.cho_solve((chol, True), ((values - self.mean_[b]) @ scaled_b).T).T  # (n, k)
        means = self.mean_[a] + gain_inner @ W_a.T
        components = linalg.solve_triangular(chol, W_a.T, lower=True).T  # W_a L⁻ᵀ
        return LowRankConditional(means, components, self.noise_variance_[a].copy(), a, b, self.rectify, self._rng)


class LowRankConditional(LowRankGaussian):
    """Gaussians p(x_a | x_b = vᵢ) sharing Σ_a|b = W Wᵀ + diag(ψ), one mean per conditioning row vᵢ.

    ``mean_`` (n, d_a), ``components_`` (d_a, k), ``noise_variance_`` (d_a,), ``index_`` (the units
    a), ``given_index_`` (b). :meth:`score_samples`, :meth:`mahalanobis` and :meth:`score_gradient`
    take X whose last two axes broadcast against ``mean_`` (row i is scored under condition i).
    """

    def __init__(self, mean: np.ndarray, components: np.ndarray, noise_variance: np.ndarray, index: np.ndarray,
                 given_index: np.ndarray, rectify: bool, rng: np.random.Generator) -> None:
        self.mean_ = mean
        self.components_ = components
        self.noise_variance_ = noise_variance
        self.index_ = index
        self.given_index_ = given_index
        self.rectify = rectify
        self._rng = rng
        self._factorise()

    def sample(self, n_samples: int | None = None, random_state: RandomState = None) -> np.ndarray:
        """One draw per conditioning row, (n, d_a); with ``n_samples`` = m, m draws per row, (m, n, d_a).

        Uses the parent density's Generator unless ``random_state`` is given; rectified when the
        parent's ``rectify`` is set.
        """
        rng = call_generator(self._rng, random_state)
        shape = self.mean_.shape[:-1] if n_samples is None else (int(n_samples),) + self.mean_.shape[:-1]
        return self._draw(self.mean_, shape, rng)
