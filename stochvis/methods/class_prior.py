"""class_prior (split from reconstruction)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from stochvis.features import feature, statistics_key
from stochvis.models import WrappedModel
from stochvis.optvis.objectives import Objective
from stochvis.stats import sampling
from stochvis.stats.density import GaussianDensity
from stochvis.stats.store import Statistics, check_finite, check_model

PRIOR_TERMS = ("nll", "outliers", "both")  # what statistics_prior adds


class _ClassGaussian:
    """The class Gaussian of one feature as torch tensors, for differentiable scores."""

    def __init__(self, stats: Statistics, key: str, shrinkage) -> None:
        check_finite(stats, key)
        density: GaussianDensity = stats.density(key, shrinkage=shrinkage)
        chol = np.linalg.cholesky(density.covariance_)
        self.mean = torch.from_numpy(density.mean_)
        self.whitener = torch.from_numpy(np.linalg.inv(chol))  # L⁻¹: z = L⁻¹(x − μ), ‖z‖² = Mahalanobis²
        self.std = torch.from_numpy(np.sqrt(np.diag(density.covariance_)))
        self.dim = density.n_features_in_
        if not all(torch.isfinite(t).all() for t in (self.mean, self.whitener, self.std)):
            raise ValueError(f"the class model of {key!r} ({stats.class_name}) is not finite: collect the statistics again")

    def to(self, device) -> _ClassGaussian:
        if self.mean.device != torch.device(device):
            self.mean, self.whitener, self.std = (t.to(device) for t in (self.mean, self.whitener, self.std))
        return self


def _feature_under_class_model(stats: Statistics, feature_key: str, shrinkage):
    """The statistics key, the feature reader and the class Gaussian that the prior terms share."""
    key = statistics_key(feature_key)
    return key, feature(key, stats), _ClassGaussian(stats, key, shrinkage)


def _bound_to(stats: Statistics, allow_other_model: bool, fn, layers, name: str) -> Objective:
    """An objective that, when bound to a model (optimize does it first), refuses statistics of other weights."""
    def bind(model) -> Objective:
        check_model(stats, model, allow_other_model=allow_other_model)
        return Objective(fn, layers, name)

    return Objective(fn, layers, name, bind=bind)


def log_likelihood(stats: Statistics, feature_key: str, *, shrinkage="oas", allow_other_model: bool = False) -> Objective:
    """Per image: −½·Mahalanobis²/d of the feature under the class Gaussian (its log-likelihood up to
    a constant, per dimension; ≈ −½ for a typical member of the class). Maximise it to pull the
    feature towards the class distribution."""
    key, feat, model = _feature_under_class_model(stats, feature_key, shrinkage)

    def fn(acts) -> torch.Tensor:
        x = feat(acts[feat.layer]).double()
        gaussian = model.to(x.device)
        z = (x - gaussian.mean) @ gaussian.whitener.T
        return (-0.5 * z.pow(2).sum(1) / gaussian.dim).float()

    return _bound_to(stats, allow_other_model, fn, [feat.layer], f"loglik({key}|{stats.class_name})")


def outlier_excess(stats: Statistics, feature_key: str, *, threshold: float = 3.0, shrinkage="oas",
                   allow_other_model: bool = False) -> Objective:
    """Per image: −Σ_units max(0, z − threshold), z = (x − μ)/σ under the class model: only units more
    than ``threshold`` std *above* the class mean contribute, and the gradient of this term lowers
    exactly those units — the source documents' "gradient steps that decrease the outlier neurons".
    The units are re-selected every step (:meth:`stochvis.stats.sampling.OutlierScores.units` lists them)."""
    key, feat, model = _feature_under_class_model(stats, feature_key, shrinkage)

    def fn(acts) -> torch.Tensor:
        x = feat(acts[feat.layer]).double()
        gaussian = model.to(x.device)
        z = (x - gaussian.mean) / gaussian.std
        return -torch.relu(z - threshold).sum(1).float()

    return _bound_to(stats, allow_other_model, fn, [feat.layer], f"outliers>{threshold:g}σ({key}|{stats.class_name})")


def _check_prior_arguments(stats, features, strength) -> None:
    """A sentence naming the expected types, for arguments in the wrong order (the model is not an argument)."""
    given = ", ".join(type(v).__name__ for v in (stats, features, strength))
    usage = ("statistics_prior(stats, features, strength) takes (Statistics of one class, a feature key or a list of "
             "them such as 'conv3_3' or ['conv3_3/pooled'], a number); the model is not an argument — the objective "
             f"is bound to it when optimised: optimize(model, objective + prior). Got ({given})")
    names_ok = isinstance(features, str) or (isinstance(features, (list, tuple)) and all(isinstance(f, str) for f in features))
    if not isinstance(stats, Statistics) or not names_ok or isinstance(strength, bool) or not isinstance(
            strength, (int, float, np.integer, np.floating)):
        raise ValueError(usage)


def statistics_prior(
    stats: Statistics,
    features: str | Sequence[str],
    strength: float = 1.0,
    *,
    terms: str = "both",
    threshold: float = 3.0,
    shrinkage="oas",
    allow_other_model: bool = False,
) -> Objective:
    """``strength`` × (log-likelihood and/or outlier-unit suppression) of shallow-layer features under
    one class's statistics, to add to an AM objective: ``objective + statistics_prior(stats, "conv3_3", 5)``.

    ``terms``: one of :data:`PRIOR_TERMS`: ``"nll"`` (:func:`log_likelihood`), ``"outliers"``
    (:func:`outlier_excess`) or ``"both"``.
    Bare layer names mean their pooled vectors (the statistics' convention). Optimising it with a
    model whose weights differ from the statistics' is refused unless ``allow_other_model``.
    """
    _check_prior_arguments(stats, features, strength)
    if terms not in PRIOR_TERMS:
        raise ValueError(f"terms={terms!r}: use one of {', '.join(PRIOR_TERMS)}")
    keys = [features] if isinstance(features, str) else list(features)
    if not keys:
        raise ValueError("statistics_prior needs at least one feature")
    parts: list[Objective] = []
    for key in keys:
        if terms in ("nll", "both"):
            parts.append(log_likelihood(stats, key, shrinkage=shrinkage, allow_other_model=allow_other_model))
        if terms in ("outliers", "both"):
            parts.append(outlier_excess(stats, key, threshold=threshold, shrinkage=shrinkage,
                                        allow_other_model=allow_other_model))
    return float(strength) * sum(parts)


def outlier_summary(stats: Statistics, model: WrappedModel, images: torch.Tensor, features: str | Sequence[str],
                    *, threshold: float = 3.0) -> dict[str, dict[str, np.ndarray]]:
    """What the prior targets, measured: per feature, Mahalanobis/√d, the number of units above
    ``threshold`` std, and their summed excess, per image (numpy arrays)."""
    keys = [statistics_key(f) for f in ([features] if isinstance(features, str) else features)]
    scores = sampling.outlier_scores(stats, model, images, keys)
    return {key: {"mahalanobis_per_dim": s.mahalanobis_per_dim,
                  "units_above": (s.zscores > threshold).sum(1),
                  "excess": np.clip(s.zscores - threshold, 0, None).sum(1)} for key, s in scores.items()}
