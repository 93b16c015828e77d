"""density (split from statistics)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from stochvis.features import find_part
from stochvis.stats.moments import FeatureStats


def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    array = np.asarray(x, dtype=np.float64)
    return array[None, :] if array.ndim == 1 else array


def oas_shrinkage(covariance: np.ndarray, n_samples: int) -> float:
    """The OAS shrinkage (Chen et al. 2010) from the ML covariance and N alone, as scikit-learn computes it."""
    p = covariance.shape[0]
    if p == 1:
        return 0.0
    alpha = float(np.vdot(covariance, covariance)) / covariance.size  # mean of squares, no d×d temporary
    mu = np.trace(covariance) / p
    den = (n_samples + 1) * (alpha - mu**2 / p)
    return 1.0 if den == 0 else float(min((alpha + mu**2) / den, 1.0))


def check_degenerate(n: int, ml_covariance: np.ndarray, *, shrinkage=None, what: str = "these statistics") -> None:
    """Refuse or warn about statistics that cannot define a density, with the numbers.

    Why: from one image every draw equals the mean and a prior scores −3.8e16; constant units or
    fewer images than dimensions without shrinkage give a singular covariance that a density only
    pretends to invert. N < 2 or every unit constant is refused; the rest is a warning.
    """
    d = ml_covariance.shape[0]
    if n < 2:
        raise ValueError(f"{what} come from {n} image(s): a covariance needs at least 2 (more than {d} for "
                         f"{d} dimensions without shrinkage); collect more images of the class")
    variances = np.diag(ml_covariance)
    scale = max(float(np.abs(variances).max()) if d else 0.0, 1e-300)
    constant = int((variances <= 1e-12 * scale).sum()) if scale > 1e-300 else d
    if constant == d:
        raise ValueError(f"{what}: all {d} units are constant over the {n} images (zero variance): no density to model")
    if shrinkage is None and constant:
        warnings.warn(f"{what}: {constant} of {d} units have zero variance over {n} images and shrinkage=None: "
                      "their density is a spike (reg_covar only); use shrinkage='oas'", stacklevel=3)
    if shrinkage is None and n <= d:
        warnings.warn(f"{what}: {n} images for {d} dimensions without shrinkage: the covariance is singular "
                      "(rank ≤ N − 1); use shrinkage='oas' or collect more images", stacklevel=3)



def call_generator(kept: np.random.Generator | None, random_state: int | None) -> np.random.Generator:
    """The generator of one sampling call: a fresh one from the call's seed if given, else the one the
    density keeps (made at fit from its ``random_state``), so consecutive draws differ but a run is
    reproducible. **The** rule of every density's ``random_state=`` argument."""
    if random_state is not None:
        return np.random.default_rng(random_state)
    if kept is None:
        raise NotFittedError("this density is not fitted yet: call fit first")
    return kept

class GaussianDensity(BaseEstimator):
    """A Gaussian N(mean, Σ) with Σ shrunk towards (trace Σ / d)·I.

    ``shrinkage``: ``"oas"`` (default; from N and the covariance, so it works from a saved file),
    ``"ledoit_wolf"`` (only with :meth:`fit` on raw vectors: its formula needs fourth moments),
    a number in [0, 1], or ``None`` (the maximum-likelihood covariance). ``reg_covar`` adds
    ``reg_covar · trace/d`` to the diagonal so a rank-deficient class (N < d) stays invertible.
    ``random_state`` seeds :meth:`sample` (scikit-learn's convention: hyperparameters and the seed in the
    constructor, fitted attributes ending in ``_``; a method used before fitting raises ``NotFittedError``).
    Fitted ``parts_`` (name, start, stop) name the slices of a joint vector for :meth:`condition`.
    """

    def __init__(self, shrinkage: str | float | None = "oas", reg_covar: float = 1e-6,
                 random_state: int | None = None) -> None:
        self.shrinkage = shrinkage
        self.reg_covar = reg_covar
        self.random_state = random_state

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(X) or build it with "
                                 "from_stats(statistics[key])")

    def _rng(self, random_state: int | None) -> np.random.Generator:
        if random_state is None:
            self._check_fitted()
        return call_generator(getattr(self, "_generator", None), random_state)

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X, y=None) -> GaussianDensity:
        from sklearn.covariance import ledoit_wolf

        X = _as_array(X)
        self.parts_ = []
        if self.shrinkage == "ledoit_wolf":
            covariance, amount = ledoit_wolf(X)
            return self._set(X.mean(0), np.cov(X.T, ddof=0).reshape(X.shape[1], X.shape[1]), len(X), amount)
        return self._set(X.mean(0), np.cov(X.T, ddof=0).reshape(X.shape[1], X.shape[1]), len(X))

    @classmethod
    def from_stats(cls, stats: FeatureStats, shrinkage: str | float | None = "oas", reg_covar: float = 1e-6,
                   random_state: int | None = None) -> GaussianDensity:
        """The same model :meth:`fit` would give on the raw vectors (OAS, fixed or no shrinkage)."""
        if shrinkage == "ledoit_wolf":
            raise ValueError("Ledoit-Wolf needs the raw vectors (fourth moments); from statistics use "
                             "shrinkage='oas', a number, or None")
        model = cls(shrinkage, reg_covar, random_state)
        model.parts_ = list(stats.parts)
        return model._set(stats.mean.cpu().numpy(), stats.covariance(ddof=0).cpu().numpy(), stats.count)

    def _set(self, mean: np.ndarray, ml_covariance: np.ndarray, n: int, amount: float | None = None) -> GaussianDensity:
        d = len(mean)
        check_degenerate(n, ml_covariance, shrinkage=self.shrinkage if amount is None else amount or None,
                         what="the Gaussian's statistics")
        if amount is None:
            if self.shrinkage == "oas":
                amount = oas_shrinkage(ml_covariance, n)
            elif self.shrinkage is None:
                amount = 0.0
            elif isinstance(self.shrinkage, (int, float)) and 0 <= self.shrinkage <= 1:
                amount = float(self.shrinkage)
            else:
                raise ValueError(f"shrinkage must be 'oas', 'ledoit_wolf', a number in [0, 1] or None, got {self.shrinkage!r}")
        mu = np.trace(ml_covariance) / d
        covariance = (1 - amount) * ml_covariance  # shrunk towards (trace/d)·I without a d×d identity
        covariance[np.diag_indices(d)] += amount * mu + self.reg_covar * max(mu, 1e-12)
        return self._finish(mean, covariance, n, amount)

    def _finish(self, mean, covariance, n, amount) -> GaussianDensity:
        self.mean_ = np.asarray(mean, dtype=np.float64)
        self.covariance_ = np.asarray(covariance, dtype=np.float64)
        self.n_samples_ = int(n)
        self.shrinkage_ = float(amount)
        self.n_features_in_ = len(self.mean_)
        self.parts_ = getattr(self, "parts_", [])
        self._chol = None
        self._conditioners = {}
        self._generator = np.random.default_rng(self.random_state)
        return self

    @property
    def _cholesky(self) -> np.ndarray:
        """The covariance's Cholesky factor, computed on first use: conditioning a joint of two whole maps
        needs only the given block's factor, and the joint's (9408² for pool1+pool2) costs seconds."""
        self._check_fitted()
        if self._chol is None:
            try:
                self._chol = linalg.cholesky(self.covariance_, lower=True)
            except linalg.LinAlgError as error:
                raise ValueError("the covariance is singular: use shrinkage ('oas') or a larger reg_covar") from error
        return self._chol

    # -- scoring -----------------------------------------------------------------------------
    def _whiten(self, X) -> np.ndarray:
        X = _as_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected vectors of dimension {self.n_features_in_}, got {X.shape[1]}")
        return linalg.solve_triangular(self._cholesky, (X - self.mean_).T, lower=True).T

    def mahalanobis(self, X) -> np.ndarray:
        """Mahalanobis distance √((x − μ)ᵀ Σ⁻¹ (x − μ)) per sample."""
        return np.sqrt((self._whiten(X) ** 2).sum(1))

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each sample."""
        squared = (self._whiten(X) ** 2).sum(1)
        log_det = 2 * np.log(np.diag(self._cholesky)).sum()
        return -0.5 * (squared + log_det + self.n_features_in_ * np.log(2 * np.pi))

    def score(self, X, y=None) -> float:
        return float(self.score_samples(X).mean())

    def zscores(self, X) -> np.ndarray:
        """(x − μ) / σ per unit: which units make a sample an outlier."""
        return (_as_array(X) - self.mean_) / np.sqrt(np.diag(self.covariance_))

    def group_mahalanobis(self, X, groups: dict[str, Sequence[int] | slice] | None = None) -> dict[str, np.ndarray]:
        """Mahalanobis distance of each unit group under its marginal (default groups: the parts)."""
        if groups is None:
            if not self.parts_:
                raise ValueError("no parts: pass groups={name: indices}")
            groups = {name: slice(a, b) for name, a, b in self.parts_}
        X = _as_array(X)
        return {name: self.marginal(index).mahalanobis(X[:, index]) for name, index in groups.items()}

    # -- sampling and conditioning -----------------------------------------------------------
    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """``n_samples`` draws; ``random_state`` overrides the instance's generator for this call."""
        rng = self._rng(random_state)
        return self.mean_ + rng.standard_normal((n_samples, self.n_features_in_)) @ self._cholesky.T

    def _index(self, part: str | slice | Sequence[int]) -> np.ndarray:
        if isinstance(part, str):
            found = find_part(self.parts_, part)
            if found is not None:
                return np.arange(*found)
            raise KeyError(f"no part {part!r}; parts: {', '.join(p for p, _, _ in self.parts_) or 'none'}")
        if isinstance(part, slice):
            return np.arange(self.n_features_in_)[part]
        return np.asarray(part, dtype=np.int64)

    def marginal(self, part: str | slice | Sequence[int]) -> GaussianDensity:
        index = self._index(part)
        out = GaussianDensity(self.shrinkage, self.reg_covar, self.random_state)
        return out._finish(self.mean_[index], self.covariance_[np.ix_(index, index)], self.n_samples_, self.shrinkage_)

    def _split(self, given):
        if given is None:
            if len(self.parts_) < 2:
                raise ValueError("condition needs given=... (indices or a part name) for a vector without parts")
            given = self.parts_[-1][0]
        b = self._index(given)
        a = np.setdiff1d(np.arange(self.n_features_in_), b)
        return a, b

    def _conditioner(self, given) -> _Conditioner:
        """The pieces every conditional on ``given`` shares, computed once per ``given`` and kept:
        the given block's Cholesky factor L, W = L⁻¹ Σ_ba, and Σ_a|b = Σ_aa − WᵀW (a symmetric rank
        update, half the work of forming the gain Σ_ab Σ_bb⁻¹ first)."""
        a, b = self._split(given)
        cache = self._conditioners
        key = b.tobytes()
        if key not in cache:
            cache.clear()  # a joint is conditioned on one part at a time: keep one, they are d² each
            cache[key] = _Conditioner.build(self.covariance_, a, b)
        return cache[key]

    def condition(self, values, given: str | slice | Sequence[int] | None = None) -> GaussianDensity:
        """p(rest | x_given = values): μ_a + Σ_ab Σ_bb⁻¹ (v − μ_b), Σ_aa − Σ_ab Σ_bb⁻¹ Σ_ba.

        ``given`` defaults to the last part (layer k+1 of a joint k, k+1 model).
        """
        part = self._conditioner(given)
        values = _as_array(values)[:1]
        out = GaussianDensity(self.shrinkage, self.reg_covar, self.random_state)
        names = [p for p in self.parts_ if not set(range(p[1], p[2])) & set(part.b.tolist())]
        out.parts_ = [(n, s - names[0][1], e - names[0][1]) for n, s, e in names] if len(names) == 1 else []
        mean = part.means(values, self.mean_)[0]
        return out._finish(mean, part.covariance.astype(np.float64), self.n_samples_, self.shrinkage_)

    def conditional_mean(self, values, given=None) -> np.ndarray:
        """E[rest | x_given] for each row of ``values`` (M, d_given)."""
        return self._conditioner(given).means(_as_array(values), self.mean_)

    def conditional_sample(self, values, given=None, random_state: int | None = None) -> np.ndarray:
        """One draw of the rest for each row of ``values`` (M, d_given): a batch of conditionals at once."""
        part = self._conditioner(given)
        means = part.means(_as_array(values), self.mean_)
        rng = self._rng(random_state)
        return means + rng.standard_normal(means.shape) @ part.cholesky.T.astype(np.float64)


# Above this many units the conditioning runs in float32: the factorisations of a whole-map joint
# (pool1+pool2, 9408 units) take twice as long in float64, and the shrinkage keeps the covariance
# well enough conditioned for float32; a factorisation that fails in float32 is redone in float64.
FLOAT32_CONDITIONING_ABOVE = 2048


def _cholesky_lower(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, in the matrix's precision if it succeeds there, else in float64."""
    try:
        return linalg.cholesky(matrix, lower=True, check_finite=False)
    except linalg.LinAlgError:
        if matrix.dtype == np.float64:
            raise
        return linalg.cholesky(matrix.astype(np.float64), lower=True, check_finite=False)


class _Conditioner:
    """Gaussian conditioning of the ``a`` units on the ``b`` units of one covariance."""

    def __init__(self, a: np.ndarray, b: np.ndarray, factor: np.ndarray, whitened: np.ndarray,
                 covariance: np.ndarray) -> None:
        self.a, self.b, self.factor, self.whitened, self.covariance = a, b, factor, whitened, covariance
        self._chol: np.ndarray | None = None

    @classmethod
    def build(cls, covariance: np.ndarray, a: np.ndarray, b: np.ndarray) -> _Conditioner:
        dtype = np.float32 if len(a) + len(b) > FLOAT32_CONDITIONING_ABOVE else np.float64
        factor = _cholesky_lower(np.ascontiguousarray(covariance[np.ix_(b, b)], dtype=dtype))
        cross = np.asarray(covariance[np.ix_(b, a)], dtype=factor.dtype)
        whitened = linalg.solve_triangular(factor, cross, lower=True, check_finite=False)  # W = L⁻¹ Σ_ba
        conditional = np.array(covariance[np.ix_(a, a)], dtype=factor.dtype, order="F")
        syrk = linalg.blas.ssyrk if factor.dtype == np.float32 else linalg.blas.dsyrk
        # Σ_aa − WᵀW into the lower triangle (BLAS syrk: C ← α AᵀA + β C, A = W), then mirrored
        conditional = syrk(-1.0, whitened, beta=1.0, c=conditional, trans=1, lower=1, overwrite_c=1)
        conditional = np.tril(conditional) + np.tril(conditional, -1).T
        return cls(a, b, factor, whitened, conditional)

    def means(self, values: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """μ_a + Wᵀ L⁻¹ (v − μ_b) per row of ``values``: Σ_ab Σ_bb⁻¹ without forming the gain."""
        centred = (values - mean[self.b]).T.astype(self.factor.dtype)
        solved = linalg.solve_triangular(self.factor, centred, lower=True, check_finite=False)
        return mean[self.a] + (self.whitened.T @ solved).T.astype(np.float64)

    @property
    def cholesky(self) -> np.ndarray:
        """The conditional covariance's Cholesky factor (a tiny ridge keeps it positive definite)."""
        if self._chol is None:
            relative = 1e-7 if self.covariance.dtype == np.float32 else 1e-12
            jittered = self.covariance.copy()
            jittered[np.diag_indices(len(self.a))] += relative * float(np.trace(self.covariance)) / max(len(self.a), 1)
            self._chol = _cholesky_lower(jittered)
        return self._chol


class PPCADensity(GaussianDensity):
    """Probabilistic PCA (Tipping & Bishop 1999) in closed form from the covariance eigendecomposition:
    W = U_q (Λ_q − σ²I)^½, σ² = mean of the discarded eigenvalues, Σ = WWᵀ + σ²I.

    Uses the ddof=1 covariance like scikit-learn's PCA, whose ``score_samples`` is the same
    likelihood when N > d.
    """

    def __init__(self, n_components: int = 10, random_state: int | None = None) -> None:
        super().__init__(shrinkage=None, reg_covar=0.0, random_state=random_state)
        self.n_components = n_components

    def fit(self, X, y=None) -> PPCADensity:
        X = _as_array(X)
        self.parts_ = []
        return self._from_cov(X.mean(0), np.cov(X.T, ddof=1).reshape(X.shape[1], X.shape[1]), len(X))

    @classmethod
    def from_stats(cls, stats: FeatureStats, n_components: int = 10, random_state: int | None = None) -> PPCADensity:
        model = cls(n_components, random_state)
        model.parts_ = list(stats.parts)
        return model._from_cov(stats.mean.cpu().numpy(), stats.covariance(ddof=1).cpu().numpy(), stats.count)

    def _from_cov(self, mean, covariance, n) -> PPCADensity:
        d = len(mean)
        check_degenerate(n, covariance, shrinkage="ppca", what="the PPCA's statistics")
        q = int(self.n_components)
        if not 0 < q < d:
            raise ValueError(f"n_components must be in 1..{d - 1} for {d}-dimensional vectors, got {q}")
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues, eigenvectors = np.clip(eigenvalues[::-1], 0, None), eigenvectors[:, ::-1]
        noise = max(eigenvalues[q:].mean(), 1e-12 * max(eigenvalues[0], 1e-12))
        self.components_ = eigenvectors[:, :q].T
        self.explained_variance_ = eigenvalues[:q]
        self.noise_variance_ = float(noise)
        weights = eigenvectors[:, :q] * np.sqrt(np.clip(eigenvalues[:q] - noise, 0, None))
        return self._finish(mean, weights @ weights.T + noise * np.eye(d), n, 0.0)


class MixtureDensity(BaseEstimator):
    """A Gaussian mixture for multi-modal classes: scikit-learn's GaussianMixture, fitted on raw
    vectors (a mixture cannot be recovered from one mean and covariance)."""

    def __init__(self, n_components: int = 2, covariance_type: str = "full", reg_covar: float = 1e-4,
                 random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.random_state = random_state

    def fit(self, X, y=None) -> MixtureDensity:
        from sklearn.mixture import GaussianMixture

        X = _as_array(X)
        self.mixture_ = GaussianMixture(self.n_components, covariance_type=self.covariance_type,
                                        reg_covar=self.reg_covar * max(X.var(0).mean(), 1e-12),
                                        random_state=self.random_state).fit(X)
        self.n_features_in_ = X.shape[1]
        return self

    @classmethod
    def from_stats(cls, stats: FeatureStats, **kwargs):
        raise TypeError("a Gaussian mixture needs the raw vectors: MixtureDensity().fit(stats.vectors(model, images)[key])")

    def score_samples(self, X) -> np.ndarray:
        check_is_fitted(self, "mixture_")
        return self.mixture_.score_samples(_as_array(X))

    def score(self, X, y=None) -> float:
        return float(self.score_samples(X).mean())

    def sample(self, n_samples: int = 1, random_state: int | None = None) -> np.ndarray:
        """``n_samples`` draws, shuffled (scikit-learn returns them grouped by component)."""
        if not hasattr(self, "mixture_"):
            raise NotFittedError("this MixtureDensity is not fitted yet: call fit(X) on raw vectors")
        seed = self.random_state if random_state is None else random_state
        self.mixture_.random_state = seed
        samples, _ = self.mixture_.sample(n_samples)
        return samples[np.random.default_rng(seed).permutation(n_samples)]

    def mahalanobis(self, X) -> np.ndarray:
        """Distance to the most likely component, in that component's metric."""
        check_is_fitted(self, "mixture_")
        X = _as_array(X)
        mixture = self.mixture_
        best = mixture.predict(X)
        out = np.empty(len(X))
        for k in range(self.n_components):
            rows = best == k
            if rows.any():
                precision_chol = mixture.precisions_cholesky_[k] if self.covariance_type == "full" else None
                if precision_chol is None:
                    raise NotImplementedError("mahalanobis is implemented for covariance_type='full'")
                out[rows] = np.sqrt((((X[rows] - mixture.means_[k]) @ precision_chol) ** 2).sum(1))
        return out
