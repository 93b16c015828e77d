"""Feature inversion and stochastic deconvolution: images from (sampled) activations.

Feature inversion (Mahendran & Vedaldi 2015, "Understanding deep image representations by
inverting them") finds an image whose activations match a target:

    x* = argmin_x  Σ_f w_f ‖φ_f(Φ(x)) − t_f‖² / ‖t_f‖²  +  image priors (TV^β, α-norm, jitter)

The normalised error ‖φ(Φ(x)) − t‖² / ‖t‖² is scale free (1 = as far as a zero activation), so
errors compare across layers and terms can be summed. Here the error is an
:class:`~stochvis.optvis.objectives.Objective` (its negative, since objectives are maximised) and the priors
are :mod:`stochvis.optvis.regularizers`: inversion runs in the one loop, :func:`stochvis.optvis.optimize.optimize`.

What is matched, per layer (a :class:`Feature`):

* ``"map"`` — the whole activation map: the inversion keeps the layout of the target image;
* ``"pooled"`` — the spatial mean of every channel. A pooled target says *which* features are
  present, not *where*: its reconstructions are texture-like, the features scattered over the
  image (Gatys-style texture synthesis with first moments only);
* ``"projected"`` — the statistics' random projection Pᵀvec(Φ) of a map (``"<layer>/map"`` features
  of :mod:`stochvis.stats` when the map is too big to keep whole).

Why match a projected sample *in projection space*, ‖Pᵀvec(Φ(x)) − s‖², rather than lift it to a
full map first: the statistics know the distribution of s only. Lifting with the pseudo-inverse
gives the minimum-norm map in P's row space, which sets the (much larger) orthogonal complement to
zero — a constraint the statistics never made, and a map no image produces (negative after a
ReLU, spread evenly). Matching Pᵀvec(Φ) constrains exactly what was sampled and leaves the other
directions to the image priors. A Gaussian random P nearly preserves norms, so the normalised
error means the same as for a full map.

Stochastic deconvolution (the source documents' proposal): draw n activation vectors of a layer
from a class's statistics (:func:`stochvis.stats.sampling.draw`) and invert each: n different images of
the class. Backward variant: draw the deep layer, then each shallower layer given the one above
(:func:`stochvis.stats.sampling.conditional_chain`), and invert against all of them at once.

The statistics prior in activation maximisation (:func:`statistics_prior`): a term added to any AM
objective that scores shallow-layer features under the class Gaussian — the negative log-likelihood
(Mahalanobis²), and/or a hinge on the units more than ``threshold`` std above the class mean, whose
gradient is exactly "take steps that decrease the outlier units". Being an objective term, it runs
in the same loop with no hook.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from stochvis.features import Feature, feature
from stochvis.inputs import check_image_batch, image_size
from stochvis.layers import capture
from stochvis.models import WrappedModel
from stochvis.optvis import params as P
from stochvis.optvis import regularizers as R
from stochvis.optvis.objectives import Objective
from stochvis.optvis.optimize import OptimizationResult, optimize
from stochvis.stats.store import Statistics, check_model


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
    height, width = image_size(size)
    pixels = height * width
    return R.from_strengths(jitter=jitter, normalize=False, tv=tv / (pixels * GRADIENT_NORM_V ** beta), tv_beta=beta,
                            alpha_norm=alpha_norm / (pixels * PIXEL_NORM_B ** alpha), alpha=alpha,
                            blur_sigma=blur_sigma if blur_every else 0.0, blur_every=blur_every)


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
    allow_other_model: bool = False,
    **optimize_options,
) -> InversionResult:
    """Images whose features match ``targets`` (Mahendran & Vedaldi 2015), one per target row.

    ``layers``: a layer/feature or a list (see :func:`feature`), with ``targets`` alongside, or a
    mapping {feature: target}. ``regularizers`` default to :func:`image_priors` for the image size
    (pass ``[]`` for none). ``prior``: an extra objective term, e.g. ``strength · statistics_prior``.
    ``size`` defaults to the statistics' image size when ``stats`` is given, else the model's input
    size; a map target fixes the size, and a mismatch is reported. Other options go to
    :func:`~stochvis.optvis.optimize.optimize` (``octaves``, ``record_every``, ``autocast_bf16``, ...).
    ``stats`` of another model (weight fingerprint) are refused unless ``allow_other_model``.
    """
    if stats is not None:
        check_model(stats, model, allow_other_model=allow_other_model)
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


# -- image priors calibrated from real images --------------------------------------------------

def _tv_raw(images: torch.Tensor, beta: float) -> torch.Tensor:
    """Σ over pixels of (|Δx|² + |Δy|²)^(β/2) per image, as :class:`R.TotalVariation` with weight 1."""
    return R.TotalVariation(1.0, beta)(images)


class CentredNorm(R.Penalty):
    """weight · Σ |x − centre|^α: Mahendran & Vedaldi's α-norm around a centre taken from the data
    (a number or an image), not mid-grey."""

    def __init__(self, weight: float, alpha: float, centre: float | torch.Tensor) -> None:
        self.weight, self.alpha = float(weight), float(alpha)
        self.centre = centre

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        centre = self.centre.to(images) if isinstance(self.centre, torch.Tensor) else self.centre
        return self.weight * (images - centre).abs().pow(self.alpha).flatten(1).sum(1)


@dataclass
class CalibratedPriors:
    """Image priors whose scales come from real images, and the start image to use with them.

    ``regularizers`` go to :func:`invert` / ``optimize``; ``init`` (1, C, H, W) is the start image
    (:meth:`param` makes the pixel parameterisation from it); ``tv_scale`` / ``norm_scale`` are
    the median raw TV^β and α-norm of the real images (a median real image costs exactly the
    strength of each term); ``norm_centre`` the centre of the α-norm; ``quantile_target`` the
    real images' mean quantile curve and ``quantile_scale`` their median distance to it (None and 1
    when the term is off).
    """

    regularizers: list[R.Regularizer]
    init: torch.Tensor
    tv_scale: float
    norm_scale: float
    norm_centre: float | torch.Tensor
    tv: float
    norm: float
    beta: float
    alpha: float
    quantiles: float = 0.0
    quantile_scale: float = 1.0
    quantile_target: torch.Tensor | None = None

    def cost(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per image, each prior term divided by its strength: ≈ 1 for a typical real image."""
        images = images.float()
        out = {"tv": _tv_raw(images, self.beta) / self.tv_scale}
        out["norm"] = CentredNorm(1.0, self.alpha, self.norm_centre)(images) / self.norm_scale
        if self.quantile_target is not None:  # reported when in use (norm always: notebook 05 shows it)
            out["quantiles"] = R.PixelQuantiles(1.0, self.quantile_target)(images) / self.quantile_scale
        return out

    def param(self, batch: int = 1, size: int | tuple[int, int] | None = None, seed: int = 0,
              device: torch.device | str | None = None):
        """Pixels starting from :attr:`init` (a factory for ``optimize``'s ``param``)."""
        size = size or tuple(self.init.shape[-2:])
        return P.pixel(batch, size, init=self.init, seed=seed, channels=self.init.shape[1], device=device)

    def invert_options(self) -> dict:
        """``regularizers`` and ``param`` for :func:`invert` / :func:`stochastic_deconvolution`."""
        return {"regularizers": list(self.regularizers), "param": self.param}


def calibrated_image_priors(
    images: torch.Tensor,
    *,
    tv: float = 0.3,
    norm: float = 0.0,
    beta: float = 2.0,
    alpha: float = 6.0,
    init: str = "background",
    centre: str = "mean",
    jitter: int = 1,
    quantiles: float = 0.0,
) -> CalibratedPriors:
    """Image priors (TV^β, a centred α-norm, jitter) and a start image calibrated on real ``images``.

    Why: :func:`image_priors` was tuned on VGG16 photos at 128 px, with the α-norm centred at
    mid-grey and a grey start; on Fashion-MNIST (black background, data mean 0.286) a real garment
    then costs far more than flat grey, so the priors pull reconstructions towards grey textures.
    Here each term is divided by its median on the real images, so a typical real image costs
    ``tv`` (resp. ``norm``) and the strengths mean the same in any world. ``init``:
    ``"background"`` (the median border pixel, a flat image: black for Fashion), ``"mean_image"``
    (the data mean image) or ``"grey"`` (0.5). ``centre`` of the α-norm: ``"mean"`` (the data mean
    pixel value), ``"mean_image"`` or ``"background"``. ``norm`` defaults to 0 (off): the pixel box
    [0, 1] already keeps values in range when the data fill it; turn it on for other data.
    ``quantiles``: the strength of :class:`~stochvis.optvis.regularizers.PixelQuantiles` towards the
    real images' mean quantile curve (0: off), so the image's brightness histogram is the data's
    (the features leave it to the start image: Fashion chains came out at mean pixel 0.19 vs 0.31).
    """
    images = check_image_batch(images, name="calibration images")
    if len(images) < 2:
        raise ValueError(f"calibration needs real images (N ≥ 2, C, H, W) in [0, 1], got shape {tuple(images.shape)}")
    mean_image = images.mean(0, keepdim=True)
    border = torch.cat([images[..., 0, :].flatten(), images[..., -1, :].flatten(),
                        images[..., :, 0].flatten(), images[..., :, -1].flatten()])
    background = float(border.median())
    starts = {"background": torch.full_like(mean_image, background), "mean_image": mean_image,
              "grey": torch.full_like(mean_image, 0.5)}
    centres = {"mean": float(images.mean()), "mean_image": mean_image, "background": background}
    if init not in starts:
        raise ValueError(f"init={init!r}: use one of {', '.join(starts)}")
    if centre not in centres:
        raise ValueError(f"centre={centre!r}: use one of {', '.join(centres)}")
    norm_centre = centres[centre]
    tv_scale = float(_tv_raw(images, beta).median().clamp_min(1e-12))
    norm_scale = float(CentredNorm(1.0, alpha, norm_centre)(images).median().clamp_min(1e-12))
    regs = R.from_strengths(jitter=jitter, normalize=False, tv=tv / tv_scale, tv_beta=beta)
    if norm:
        regs.append(CentredNorm(norm / norm_scale, alpha, norm_centre))
    quantile_target, quantile_scale = None, 1.0
    if quantiles:  # the sort of every real image is only paid for when the term is used
        quantile_target = images.flatten(1).sort(dim=1).values.mean(0)
        quantile_scale = float(R.PixelQuantiles(1.0, quantile_target)(images).median().clamp_min(1e-12))
        regs.append(R.PixelQuantiles(quantiles / quantile_scale, quantile_target))
    return CalibratedPriors(regs, starts[init], tv_scale, norm_scale, norm_centre, tv, norm, beta, alpha,
                            quantiles, quantile_scale, quantile_target)
