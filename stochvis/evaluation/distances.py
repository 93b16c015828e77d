"""Distances between two sets of a judge's features: the FID-like (Fréchet) distance of fitted Gaussians and KID.

Apart from :mod:`stochvis.evaluation.metrics` (which measures images with them) because they are pure linear algebra
on feature arrays, with their own cost: a Fréchet distance at a judge's 1280 dimensions is an eigendecomposition, and
scoring a table is mostly these (:meth:`~stochvis.evaluation.metrics.ClassReference.frechet` takes a reference's
root once).
"""

from __future__ import annotations

import numpy as np
import torch
from threadpoolctl import ThreadpoolController

from stochvis.stats.density import GaussianDensity

_controller: ThreadpoolController | None = None


def one_blas_thread():
    """A context in which BLAS runs on one thread (see :func:`frechet_distance_gaussians`). One controller,
    made once the BLAS libraries these distances use are loaded: making one scans the process's libraries, a
    millisecond or more, which a bootstrap of thousands of distances would pay each time."""
    global _controller
    if _controller is None:
        import scipy.linalg  # noqa: F401  (load every BLAS the distances call before the controller looks)
        import sklearn.covariance  # noqa: F401

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def fit_gaussian(feats: torch.Tensor | np.ndarray, shrinkage: float | str | None = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (float64) of (N, D) features, fitted by
    :class:`~stochvis.stats.density.GaussianDensity` (the one owner of shrunk Gaussians).

    A covariance of D dimensions from N < D samples is singular and its Fréchet distance mostly
    noise, so by default it is shrunk towards a scaled identity with the Ledoit–Wolf weight
    (``shrinkage="auto"``, scikit-learn, divisor N); a float fixes the weight, ``None``/0 gives the
    plain sample covariance. With a fixed weight the divisor is N − 1, FID's convention.
    """
    x = np.asarray(feats.detach().cpu().double() if isinstance(feats, torch.Tensor) else feats, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"need (N >= 2, D) features to fit a Gaussian, got shape {x.shape}")
    if shrinkage != "auto" and shrinkage is not None and not 0 <= float(shrinkage) <= 1:
        raise ValueError(f"shrinkage must be 'auto', None or in [0, 1], got {shrinkage}")
    mean = x.mean(0)
    if not np.ptp(x, axis=0).any():  # identical samples: a point mass (the density refuses it), FID still defined
        return mean, np.zeros((x.shape[1], x.shape[1]))
    with one_blas_thread():  # see frechet_distance_gaussians
        if shrinkage == "auto":
            density = GaussianDensity("ledoit_wolf", reg_covar=0.0).fit(x)
            return density.mean_, density.covariance_
        density = GaussianDensity(float(shrinkage or 0.0), reg_covar=0.0).fit(x)  # 0.0, not None: no singular warning
        return density.mean_, density.covariance_ * (len(x) / (len(x) - 1))  # shrinkage is linear: rescale after


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition (real, stable,
    negative round-off eigenvalues clipped to 0)."""
    with one_blas_thread():  # see frechet_distance_gaussians
        values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
        return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance_gaussians(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray, *,
                               root2: np.ndarray | None = None) -> float:
    """‖μ1 − μ2‖² + tr(C1 + C2 − 2 (C2^½ C1 C2^½)^½): the Fréchet (2-Wasserstein²) distance of two
    Gaussians, as in FID. Symmetric form via eigendecompositions, so no complex round-off. ``root2``: C2^½
    (:func:`psd_sqrt`) when the second Gaussian is a reference measured against many sets: its square root is then
    taken once (:meth:`ClassReference.frechet`), half of each distance's cost at a judge's 1280 dimensions.

    BLAS runs single-threaded here: for these few-hundred-dimensional matrices threads gain
    little, and on a shared, oversubscribed machine a threaded BLAS spins (we measured 6× slower).
    """
    with one_blas_thread():
        return _frechet_distance_gaussians(mean1, cov1, mean2, cov2, psd_sqrt(cov2) if root2 is None else root2)


def _frechet_distance_gaussians(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray,
                                root2: np.ndarray) -> float:
    return _frechet_from_trace_root(mean1, cov1, mean2, cov2, _trace_root(cov1, root2))


def _trace_root(cov1: np.ndarray, root2: np.ndarray) -> float:
    """tr (C2^½ C1 C2^½)^½: the spectrum of C1·C2, as C2^½ C1 C2^½'s, its negative round-off clipped."""
    return np.sqrt(np.clip(np.linalg.eigvalsh(root2 @ cov1 @ root2), 0, None)).sum()


def _frechet_from_trace_root(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray,
                             trace_root: float) -> float:
    diff = np.asarray(mean1) - np.asarray(mean2)
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace_root, 0.0))


def frechet_distance_in_span(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray,
                             span: np.ndarray) -> float:
    """:func:`frechet_distance_gaussians`, exactly, for covariances that are isotropic outside the columns of
    ``span`` (D, k): each ``s·I`` there. Shrunk Gaussians fitted to few samples are such (:func:`fit_gaussian`: the
    samples' covariance, of rank below N, plus a multiple of I), with ``span`` the two sets' centred samples. Both
    act as scalars s1, s2 on the complement, so C1·C2's spectrum is s1·s2 there and that of a k×k problem inside.

    Why: a bootstrap measures thousands of distances of nine images against one reference; at a judge's 1280
    dimensions each D×D eigendecomposition takes a third of a second, the k×k one (k ≤ the two sets' counts)
    milliseconds. A covariance that is not isotropic outside ``span`` is refused (checked on a random direction
    of the complement), so a wrong span raises instead of giving a wrong distance."""
    d = len(mean1)
    with one_blas_thread():  # see frechet_distance_gaussians
        basis, singular, _ = np.linalg.svd(np.asarray(span, dtype=np.float64), full_matrices=False)
        basis = basis[:, singular > singular.max(initial=0.0) * 1e-10]
        k = basis.shape[1]
        if k >= d:
            return frechet_distance_gaussians(mean1, cov1, mean2, cov2)
        probe = np.random.default_rng(0).standard_normal(d)
        probe -= basis @ (basis.T @ probe)
        probe /= np.linalg.norm(probe)
        inside, outside = [], []
        for cov in (cov1, cov2):
            restricted = basis.T @ cov @ basis
            scalar = (np.trace(cov) - np.trace(restricted)) / (d - k)
            if np.linalg.norm(cov @ probe - scalar * probe) > 1e-6 * max(np.abs(cov).max(), 1e-300):
                raise ValueError("a covariance is not isotropic outside the given span: give the centred samples "
                                 "both Gaussians were fitted to (fit_gaussian), or use frechet_distance_gaussians")
            inside.append(restricted)
            outside.append(max(scalar, 0.0))
        trace_root = _trace_root(inside[0], psd_sqrt(inside[1])) + (d - k) * np.sqrt(outside[0] * outside[1])
        return _frechet_from_trace_root(mean1, cov1, mean2, cov2, trace_root)


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor, shrinkage: float | str | None = "auto") -> float:
    """FID-like distance between two feature sets (Gaussians fitted with ``fit_gaussian``).

    Biased upwards for small sets (as FID is): compare methods at equal sample counts.
    """
    return frechet_distance_gaussians(*fit_gaussian(feats_a, shrinkage), *fit_gaussian(feats_b, shrinkage))


def kernel_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """KID (Bińkowski et al. 2018): the unbiased estimate of the squared maximum mean discrepancy of two feature
    sets under the cubic polynomial kernel k(x, y) = (xᵀy / D + 1)³ (scikit-learn's ``polynomial_kernel``).

    Why beside FID-like: a Fréchet distance of a few images in hundreds of dimensions is biased upwards by an
    amount that depends on the count and the spread of the set (hence shrinkage, and equal counts per row); this
    estimate has no such bias at any count, so two sets of a few images compare without it. It can be slightly
    negative when the sets are alike; it is in the units of the kernel, so it compares sets within one judge only.
    """
    from sklearn.metrics.pairwise import polynomial_kernel

    x, y = (np.asarray(f.detach().cpu().double() if isinstance(f, torch.Tensor) else f, dtype=np.float64)
            for f in (feats_a, feats_b))
    if x.ndim != 2 or y.ndim != 2 or len(x) < 2 or len(y) < 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"need two (N >= 2, D) feature sets of the same D, got shapes {x.shape} and {y.shape}")
    with one_blas_thread():  # see frechet_distance_gaussians
        def kernel(a, b):
            return polynomial_kernel(a, b, degree=3, gamma=1.0 / x.shape[1], coef0=1.0)

        within_x, within_y, across = kernel(x, x), kernel(y, y), kernel(x, y)
    n, m = len(x), len(y)
    return float((within_x.sum() - np.trace(within_x)) / (n * (n - 1))
                 + (within_y.sum() - np.trace(within_y)) / (m * (m - 1)) - 2 * across.mean())
