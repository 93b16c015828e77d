"""Feature inversion and stochastic deconvolution: images from (sampled) activations.

Feature inversion (Mahendran & Vedaldi 2015, "Understanding deep image representations by
inverting them") finds an image whose activations match a target:

    x* = argmin_x  Σ_f w_f ‖φ_f(Φ(x)) − t_f‖² / ‖t_f‖²  +  image priors (TV^β, α-norm, jitter)

The normalised error ‖φ(Φ(x)) − t‖² / ‖t‖² is scale free (1 = as far as a zero activation), so
errors compare across layers and terms can be summed. Here the error is an
:class:`~stochvis.objectives.Objective` (its negative, since objectives are maximised) and the priors
are :mod:`stochvis.regularizers`: inversion runs in the one loop, :func:`stochvis.optimize.optimize`.

What is matched, per layer (a :class:`Feature`):

* ``"map"`` — the whole activation map: the inversion keeps the layout of the target image;
* ``"pooled"`` — the spatial mean of every channel. A pooled target says *which* features are
  present, not *where*: its reconstructions are texture-like, the features scattered over the
  image (Gatys-style texture synthesis with first moments only);
* ``"projected"`` — the statistics' random projection Pᵀvec(Φ) of a map (``"<layer>/map"`` features
  of :mod:`stochvis.statistics` when the map is too big to keep whole).

Why match a projected sample *in projection space*, ‖Pᵀvec(Φ(x)) − s‖², rather than lift it to a
full map first: the statistics know the distribution of s only. Lifting with the pseudo-inverse
gives the minimum-norm map in P's row space, which sets the (much larger) orthogonal complement to
zero — a constraint the statistics never made, and a map no image produces (negative after a
ReLU, spread evenly). Matching Pᵀvec(Φ) constrains exactly what was sampled and leaves the other
directions to the image priors. A Gaussian random P nearly preserves norms, so the normalised
error means the same as for a full map.

Stochastic deconvolution (the source documents' proposal): draw n activation vectors of a layer
from a class's statistics (:func:`stochvis.sampling.draw`) and invert each: n different images of
the class. Backward variant: draw the deep layer, then each shallower layer given the one above
(:func:`stochvis.sampling.conditional_chain`), and invert against all of them at once.

The statistics prior in activation maximisation (:func:`statistics_prior`): a term added to any AM
objective that scores shallow-layer features under the class Gaussian — the negative log-likelihood
(Mahalanobis²), and/or a hinge on the units more than ``threshold`` std above the class mean, whose
gradient is exactly "take steps that decrease the outlier units". Being an objective term, it runs
in the same loop with no hook.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from stochvis import regularizers as R
from stochvis import sampling
from stochvis.layers import capture
from stochvis.models import WrappedModel
from stochvis.objectives import Objective
from stochvis.optimize import OptimizationResult, optimize
from stochvis.statistics import GaussianDensity, Statistics

KINDS = ("auto", "map", "pooled", "projected")


# ----------------------------------------------------------------------------------------------
# What is matched: features of a layer
# ----------------------------------------------------------------------------------------------

@dataclass
class Feature:
    """How a layer's activation is read for matching: the map, channel means, or a projection.

    ``kind="auto"`` (a bare layer name) decides at the first call from the target's size: the whole
    map if the target has as many values as the activation, the channel means if it has C values.
    """

    layer: str
    kind: str = "auto"
    basis: torch.Tensor | None = field(default=None, repr=False)  # (input_dim, dim) for "projected"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"feature kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.kind == "projected" and self.basis is None:
            raise ValueError(f"projected feature of {self.layer!r} needs its basis")

    @property
    def key(self) -> str:
        return self.layer if self.kind == "auto" else f"{self.layer}/{'map' if self.kind == 'projected' else self.kind}"

    def resolve(self, activation: torch.Tensor, dim: int) -> Feature:
        """The concrete feature for an activation (N, ...) and a target of ``dim`` values per image."""
        if self.kind != "auto":
            return self
        per_image = activation[0].numel()
        if dim == per_image:
            return Feature(self.layer, "map")
        if activation.dim() > 2 and dim == activation.shape[1]:
            return Feature(self.layer, "pooled")
        raise ValueError(f"target for {self.layer!r} has {dim} values per image; the activation has shape "
                         f"{tuple(activation.shape[1:])}: give the whole map ({per_image} values, check the image "
                         f"size) or one value per channel ({activation.shape[1]})")

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        """(N, d) float32 vectors of this feature."""
        act = activation.float()
        if self.kind == "pooled":
            return act.flatten(2).mean(2) if act.dim() > 2 else act.flatten(1)
        flat = act.flatten(1)
        if self.kind == "projected":
            if flat.shape[1] != self.basis.shape[0]:
                raise ValueError(f"{self.layer!r} has {flat.shape[1]} values per image but the projection expects "
                                 f"{self.basis.shape[0]}: use the image size the statistics were collected at")
            return flat @ self.basis.to(flat.device)
        if self.kind == "auto":
            raise RuntimeError("resolve an 'auto' feature against an activation first")
        return flat


def feature(spec: str | Feature, stats: Statistics | None = None) -> Feature:
    """A :class:`Feature` from ``"layer"`` (auto), ``"layer/pooled"``, ``"layer/map"`` or a Feature.

    With ``stats``, ``"layer/map"`` is read as the statistics store it: the whole map, or its
    seeded random projection (the basis is regenerated from its seed and checked by hash).
    """
    if isinstance(spec, Feature):
        return spec
    layer, _, kind = spec.partition("/")
    if kind in ("", "auto"):
        return Feature(layer, "auto")
    if kind == "pooled":
        return Feature(layer, "pooled")
    if kind != "map":
        raise ValueError(f"feature {spec!r}: use 'layer', 'layer/pooled' or 'layer/map'")
    if stats is None or layer not in stats.plan.maps or stats.plan.maps[layer]["kind"] == "identity":
        return Feature(layer, "map")
    from stochvis.statistics import _basis_hash, _random_basis

    plan = stats.plan.maps[layer]
    basis = _random_basis(plan["input_dim"], plan["dim"], plan["seed"])
    if _basis_hash(basis) != plan["hash"]:
        raise ValueError(f"the random projection of {layer!r} regenerated here differs from the statistics' "
                         "(another torch version's generator?): collect the statistics again")
    return Feature(layer, "projected", basis.float())


def _statistics_key(spec: str | Feature) -> str:
    """The statistics key of a feature: a bare layer means its pooled vector there."""
    if isinstance(spec, Feature):
        return spec.key if spec.kind != "auto" else f"{spec.layer}/pooled"
    return spec if "/" in spec else f"{spec}/pooled"


# ----------------------------------------------------------------------------------------------
# Targets and the reconstruction objective
# ----------------------------------------------------------------------------------------------

def _as_target(value, key: str) -> torch.Tensor:
    target = torch.as_tensor(value).detach().float().cpu()
    if target.dim() == 1:
        target = target.unsqueeze(0)  # one vector
    if target.dim() < 2 or target.shape[0] == 0:
        raise ValueError(f"target for {key!r} must be (N, ...) with N ≥ 1, got shape {tuple(target.shape)}")
    target = target.flatten(1)
    bad = ~torch.isfinite(target)
    if bad.any():
        kind = "NaN" if torch.isnan(target).any() else "Inf"
        raise ValueError(f"target activation for {key!r} contains {kind} ({int(bad.sum())} of {target.numel()} "
                         "values): check the activations or statistics it came from")
    norms = target.pow(2).sum(1)
    if (norms == 0).any():
        raise ValueError(f"target for {key!r} is all zeros for image(s) {torch.nonzero(norms == 0)[:, 0].tolist()}: "
                         "the normalised error ‖Φ(x) − Φ0‖²/‖Φ0‖² is undefined (a dead layer? pick another)")
    return target


def _pair(layers, targets, stats: Statistics | None) -> list[tuple[Feature, torch.Tensor]]:
    if isinstance(layers, Mapping):
        if targets is not None:
            raise ValueError("give the targets either as a mapping {feature: target} or as layers + targets")
        layers, targets = list(layers), list(layers.values())
    elif isinstance(layers, (str, Feature)):
        layers, targets = [layers], [targets]
    else:
        layers = list(layers)
        targets = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if len(layers) != len(targets):
        raise ValueError(f"{len(layers)} layers but {len(targets)} targets")
    if not layers:
        raise ValueError("nothing to invert: no layers")
    features = [feature(spec, stats) for spec in layers]
    pairs = [(f, _as_target(t, f.key)) for f, t in zip(features, targets)]
    batches = {t.shape[0] for _, t in pairs}
    if len(batches) > 1:
        raise ValueError(f"targets disagree on the number of images: {sorted(batches)}")
    return pairs


def reconstruction_loss(
    layers: str | Feature | Sequence[str | Feature] | Mapping,
    targets=None,
    *,
    weights: Sequence[float] | None = None,
    stats: Statistics | None = None,
) -> Objective:
    """The negative weighted sum of normalised errors Σ_f w_f ‖φ_f(Φ(x)) − t_f‖²/‖t_f‖², per image,
    as an objective to maximise. Targets are (N, ...) per feature (a 1-D tensor is one vector)."""
    pairs = _pair(layers, targets, stats)
    weights = [1.0] * len(pairs) if weights is None else [float(w) for w in weights]
    if len(weights) != len(pairs):
        raise ValueError(f"{len(weights)} weights for {len(pairs)} targets")
    names = [f.key for f, _ in pairs]
    resolved: dict[int, Feature] = {}

    def fn(acts) -> torch.Tensor:
        total = None
        for index, ((feat, target), weight) in enumerate(zip(pairs, weights)):
            act = acts[feat.layer]
            if index not in resolved:
                resolved[index] = feat.resolve(act, target.shape[1])
            error = _normalised_error(resolved[index](act), target.to(act.device), feat.key)
            total = weight * error if total is None else total + weight * error
        return -total

    return Objective(fn, {f.layer for f, _ in pairs}, f"−‖Φ−Φ0‖²/‖Φ0‖²({', '.join(names)})")


def _normalised_error(values: torch.Tensor, target: torch.Tensor, key: str) -> torch.Tensor:
    if values.shape[1] != target.shape[1]:
        raise ValueError(f"{key!r}: the image gives {values.shape[1]} values, the target has {target.shape[1]} "
                         "(an image size other than the target's?)")
    if target.shape[0] not in (1, values.shape[0]):
        raise ValueError(f"{key!r}: {target.shape[0]} targets for {values.shape[0]} images")
    return (values - target).pow(2).sum(1) / target.pow(2).sum(1)


def normalised_errors(model: WrappedModel, images: torch.Tensor, layers, targets=None, *,
                      stats: Statistics | None = None) -> dict[str, torch.Tensor]:
    """‖φ(Φ(x)) − t‖² / ‖t‖² per feature and image, no jitter, no gradient: {key: (N,)}."""
    pairs = _pair(layers, targets, stats)
    with torch.no_grad():
        acts = capture(model, images.to(model.device), sorted({f.layer for f, _ in pairs}))
        out = {}
        for feat, target in pairs:
            act = acts[feat.layer]
            concrete = feat.resolve(act, target.shape[1])
            out[concrete.key] = _normalised_error(concrete(act), target.to(act.device), concrete.key).cpu()
    return out


def activations_of(model: WrappedModel, images: torch.Tensor, layers: str | Sequence[str | Feature],
                   *, stats: Statistics | None = None) -> dict[str, torch.Tensor]:
    """Target features of real images: {key: (N, d)}. A bare layer name gives its whole map."""
    specs = [layers] if isinstance(layers, (str, Feature)) else list(layers)
    features = [feature(s, stats) for s in specs]
    features = [Feature(f.layer, "map") if f.kind == "auto" else f for f in features]
    with torch.no_grad():
        acts = capture(model, images.to(model.device), sorted({f.layer for f in features}))
        return {f.key: f(acts[f.layer]).cpu() for f in features}


# ----------------------------------------------------------------------------------------------
# Image priors and inversion
# ----------------------------------------------------------------------------------------------

# Mahendran & Vedaldi normalise their priors by B, the typical pixel norm of a mean-subtracted
# image (80 in Caffe's 0..255 units), and V = B / 6.5, the typical gradient norm: in [0, 1] units
# B ≈ 0.31, V ≈ 0.048. With weights λ/(H·W·B^α) and λ/(H·W·V^β) each prior is O(λ) on a natural
# image whatever its size, the same scale as the normalised error.
PIXEL_NORM_B = 80.0 / 255.0
GRADIENT_NORM_V = PIXEL_NORM_B / 6.5


def image_priors(
    size: int | tuple[int, int],
    *,
    tv: float = 0.1,
    beta: float = 2.0,
    alpha_norm: float = 0.01,
    alpha: float = 6.0,
    jitter: int = 1,
    blur_every: int = 0,
    blur_sigma: float = 0.5,
) -> list[R.Regularizer]:
    """Mahendran & Vedaldi's priors as regularisers: TV^β (edges cost, β=2 smooths), the α-norm
    (α=6 keeps pixels in range without a hard box), jitter (robustness to sub-stride shifts), and
    optionally Yosinski's blur every k steps. Weights are normalised by the image size (see B, V);
    0 turns a prior off. The defaults were chosen on VGG16 at 128 px (notebook 05)."""
    height, width = (size, size) if isinstance(size, int) else size
    pixels = height * width
    regs: list[R.Regularizer] = []
    if jitter:
        regs.append(R.jitter(jitter))
    if tv:
        regs.append(R.total_variation(tv / (pixels * GRADIENT_NORM_V ** beta), beta=beta))
    if alpha_norm:
        regs.append(R.lp(alpha_norm / (pixels * PIXEL_NORM_B ** alpha), p=alpha))
    if blur_every:
        regs.append(R.blur_image(blur_sigma, blur_every))
    return regs


@dataclass
class InversionResult:
    images: torch.Tensor  # (N, 3, H, W) in [0, 1]
    errors: dict[str, torch.Tensor]  # final normalised error per feature, (N,) each, measured without jitter
    targets: dict[str, torch.Tensor]  # what was matched, (N, d) per feature
    optimization: OptimizationResult
    seconds_per_image: float

    @property
    def error(self) -> torch.Tensor:
        """Mean normalised error over the features, per image."""
        return torch.stack(list(self.errors.values())).mean(0)


def invert(
    model: WrappedModel,
    layers: str | Feature | Sequence[str | Feature] | Mapping,
    targets=None,
    param=None,
    regularizers: Sequence[R.Regularizer] | None = None,
    *,
    weights: Sequence[float] | None = None,
    prior: Objective | None = None,
    stats: Statistics | None = None,
    steps: int = 200,
    lr: float = 0.05,
    optimizer: str = "adam",
    size: int | tuple[int, int] | None = None,
    seed: int = 0,
    progress: bool = False,
    **optimize_options,
) -> InversionResult:
    """Images whose features match ``targets`` (Mahendran & Vedaldi 2015), one per target row.

    ``layers``: a layer/feature or a list (see :func:`feature`), with ``targets`` alongside, or a
    mapping {feature: target}. ``regularizers`` default to :func:`image_priors` for the image size
    (pass ``[]`` for none). ``prior``: an extra objective term, e.g. ``strength · statistics_prior``.
    ``size`` defaults to the statistics' image size when ``stats`` is given, else the model's input
    size; a map target fixes the size, and a mismatch is reported. Other options go to
    :func:`~stochvis.optimize.optimize` (``octaves``, ``record_every``, ``autocast_bf16``, ...).
    """
    pairs = _pair(layers, targets, stats)
    if size is None:
        size = tuple(stats.meta["image_size"]) if stats is not None else tuple(model.input_size)
    objective = reconstruction_loss([f for f, _ in pairs], [t for _, t in pairs], weights=weights)
    if prior is not None:
        objective = objective + prior
    if regularizers is None:
        regularizers = image_priors(size)
    batch = pairs[0][1].shape[0]
    start = time.perf_counter()
    result = optimize(model, objective, param, regularizers, steps=steps, lr=lr, optimizer=optimizer, batch=batch,
                      size=size, seed=seed, progress=progress, **optimize_options)
    seconds = time.perf_counter() - start
    errors = normalised_errors(model, result.images, [f for f, _ in pairs], [t for _, t in pairs])
    return InversionResult(result.images, errors, {k: t for k, (_, t) in zip(errors, pairs)}, result,
                           seconds / max(batch, 1))


def invert_images(model: WrappedModel, images: torch.Tensor, layers: str | Sequence[str | Feature],
                  **options) -> InversionResult:
    """Invert real images' own activations at ``layers`` (bare names: whole maps), at their size."""
    targets = activations_of(model, images, layers)
    return invert(model, targets, size=tuple(images.shape[-2:]), **options)


# ----------------------------------------------------------------------------------------------
# Stochastic deconvolution
# ----------------------------------------------------------------------------------------------

def _check_statistics(stats: Statistics, key: str) -> None:
    feat = stats[key]
    for name in ("mean", "m2"):
        value = getattr(feat, name)
        if value is None or not torch.isfinite(value).all():
            bad = "missing" if value is None else f"{int((~torch.isfinite(value)).sum())} non-finite values"
            raise ValueError(f"statistics of class {stats.class_name!r}, feature {key!r}: {name} has {bad}; "
                             "the file or the collection is poisoned — collect again")


def _clip(values: torch.Tensor, stats: Statistics, key: str) -> torch.Tensor:
    """Keep each unit within the range observed on the class's images (e.g. ≥ 0 after a ReLU)."""
    feat = stats[key]
    return torch.maximum(torch.minimum(values, feat.maximum.to(values)), feat.minimum.to(values))


def sample_targets(stats: Statistics, feature_key: str | Sequence[str], n: int, *, seed: int = 0,
                   clip: bool = True, **density_options) -> dict[str, torch.Tensor]:
    """n draws per feature from the class Gaussian (OAS shrinkage), clipped to the observed range.

    One feature → independent draws. Several (deep → shallow) → the backward chain: the first is
    drawn, each next one given the one above (needs the joint statistics of neighbours).
    """
    specs = [feature_key] if isinstance(feature_key, str) else list(feature_key)
    keys = [_statistics_key(s) for s in specs]
    for key in keys:
        _check_statistics(stats, key)
    if len(keys) == 1:
        drawn = {keys[0]: sampling.draw(stats, keys[0], n, seed=seed, **density_options)}
    else:
        for upper, lower in zip(keys, keys[1:]):
            _check_statistics(stats, f"{lower}+{upper}")
        chain = sampling.conditional_chain(stats, keys, n, seed=seed, **density_options)
        drawn = {key: chain[key] for key in keys}
    out = {}
    for key, values in drawn.items():
        values = values.float()
        out[key] = _clip(values, stats, key) if clip else values
    return out


def stochastic_deconvolution(
    model: WrappedModel,
    stats: Statistics,
    layers: str | Sequence[str],
    n: int = 4,
    *,
    seed: int = 0,
    clip: bool = True,
    weights: Sequence[float] | None = None,
    **invert_options,
) -> InversionResult:
    """Class statistics → n activation samples → n reconstructions (one image per sample).

    ``layers``: one feature (``"conv5_3"`` = its pooled vector in the statistics, or
    ``"pool5/map"``), or several from deep to shallow for the backward layer-by-layer variant
    (sample the deepest, then each shallower given the one above; invert against all of them).
    Pooled targets give texture-like images. Options go to :func:`invert`.
    """
    targets = sample_targets(stats, layers, n, seed=seed, clip=clip)
    return invert(model, targets, stats=stats, weights=weights, seed=seed, **invert_options)


# ----------------------------------------------------------------------------------------------
# The statistics prior for activation maximisation
# ----------------------------------------------------------------------------------------------

class _ClassGaussian:
    """The class Gaussian of one feature as torch tensors, for differentiable scores."""

    def __init__(self, stats: Statistics, key: str, shrinkage) -> None:
        _check_statistics(stats, key)
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
    key = _statistics_key(feature_key)
    return key, feature(key, stats), _ClassGaussian(stats, key, shrinkage)


def log_likelihood(stats: Statistics, feature_key: str, *, shrinkage="oas") -> Objective:
    """Per image: −½·Mahalanobis²/d of the feature under the class Gaussian (its log-likelihood up to
    a constant, per dimension; ≈ −½ for a typical member of the class). Maximise it to pull the
    feature towards the class distribution."""
    key, feat, model = _feature_under_class_model(stats, feature_key, shrinkage)

    def fn(acts) -> torch.Tensor:
        x = feat(acts[feat.layer]).double()
        gaussian = model.to(x.device)
        z = (x - gaussian.mean) @ gaussian.whitener.T
        return (-0.5 * z.pow(2).sum(1) / gaussian.dim).float()

    return Objective(fn, [feat.layer], f"loglik({key}|{stats.class_name})")


def outlier_excess(stats: Statistics, feature_key: str, *, threshold: float = 3.0, shrinkage="oas") -> Objective:
    """Per image: −Σ_units max(0, z − threshold), z = (x − μ)/σ under the class model: only units more
    than ``threshold`` std *above* the class mean contribute, and the gradient of this term lowers
    exactly those units — the source documents' "gradient steps that decrease the outlier neurons".
    The units are re-selected every step (:meth:`stochvis.sampling.OutlierScores.units` lists them)."""
    key, feat, model = _feature_under_class_model(stats, feature_key, shrinkage)

    def fn(acts) -> torch.Tensor:
        x = feat(acts[feat.layer]).double()
        gaussian = model.to(x.device)
        z = (x - gaussian.mean) / gaussian.std
        return -torch.relu(z - threshold).sum(1).float()

    return Objective(fn, [feat.layer], f"outliers>{threshold:g}σ({key}|{stats.class_name})")


def statistics_prior(
    stats: Statistics,
    features: str | Sequence[str],
    strength: float = 1.0,
    *,
    kind: str = "both",
    threshold: float = 3.0,
    shrinkage="oas",
) -> Objective:
    """``strength`` × (log-likelihood and/or outlier-unit suppression) of shallow-layer features under
    one class's statistics, to add to an AM objective: ``objective + statistics_prior(stats, "conv3_3", 5)``.

    ``kind``: ``"nll"`` (:func:`log_likelihood`), ``"outliers"`` (:func:`outlier_excess`) or ``"both"``.
    Bare layer names mean their pooled vectors (the statistics' convention).
    """
    if kind not in ("nll", "outliers", "both"):
        raise ValueError(f"kind {kind!r}: use 'nll', 'outliers' or 'both'")
    keys = [features] if isinstance(features, str) else list(features)
    if not keys:
        raise ValueError("statistics_prior needs at least one feature")
    terms: list[Objective] = []
    for key in keys:
        if kind in ("nll", "both"):
            terms.append(log_likelihood(stats, key, shrinkage=shrinkage))
        if kind in ("outliers", "both"):
            terms.append(outlier_excess(stats, key, threshold=threshold, shrinkage=shrinkage))
    return float(strength) * sum(terms)


def outlier_summary(stats: Statistics, model: WrappedModel, images: torch.Tensor, features: str | Sequence[str],
                    *, threshold: float = 3.0) -> dict[str, dict[str, np.ndarray]]:
    """What the prior targets, measured: per feature, Mahalanobis/√d, the number of units above
    ``threshold`` std, and their summed excess, per image (numpy arrays)."""
    keys = [_statistics_key(f) for f in ([features] if isinstance(features, str) else features)]
    scores = sampling.outlier_scores(stats, model, images, keys)
    return {key: {"mahalanobis_per_dim": s.mahalanobis_per_dim,
                  "units_above": (s.zscores > threshold).sum(1),
                  "excess": np.clip(s.zscores - threshold, 0, None).sum(1)} for key, s in scores.items()}


__all__ = ["Feature", "InversionResult", "activations_of", "feature", "image_priors", "invert", "invert_images",
           "log_likelihood", "normalised_errors", "outlier_excess", "outlier_summary", "reconstruction_loss",
           "sample_targets", "statistics_prior", "stochastic_deconvolution"]
