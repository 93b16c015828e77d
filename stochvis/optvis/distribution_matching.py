"""Per-channel distribution matching: the sorted-activation (1-D optimal transport) objective of VITAL.

VITAL (Görgün, Schiele & Fischer, ICCV 2025) visualises a class without its logit: at several
layers, every channel's activations of the synthetic image (all spatial positions, as one set of
values) are matched to the class's typical distribution of that channel, the mean *sorted*
activations of real class images. For one-dimensional distributions the optimal-transport plan
pairs the k-th smallest value with the k-th smallest value, so the squared Wasserstein-2 distance
is the mean squared difference of the two quantile curves:

    W2²(p, q) = ∫₀¹ (F_p⁻¹(t) − F_q⁻¹(t))² dt  ≈  mean_k (curve_p[k] − curve_q[k])²

Why match distributions rather than maximise: a distribution says *how much* of each feature a
class image holds and how it is spread, so the optimiser cannot win by tiling the strongest
pattern everywhere (activation maximisation's repetitive "kaleidoscope"), and says nothing about
*where*, so the layout is left free (or to another term: :mod:`stochvis.methods.distribution_matching`
adds this term to a whole-map inversion of a deeper layer).

Curves are taken at Q fixed levels (k + ½)/Q of the sorted values, linearly interpolated, so maps of
different sizes (real images at 224 px, an optimised image at 128 px) give comparable curves; when
Q equals the number of positions the curve *is* the sorted map. Everything here is differentiable
(``torch.sort`` passes gradients to the values it moved), batched, and per image: a target may be
one curve set (C, Q) for the whole batch or one per image (N, C, Q), so several classes optimise in
one run. The statistics that make such targets (streamed, mergeable, on disk) are
:mod:`stochvis.stats.quantiles`; this module knows nothing of them beyond their ``.curves``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import torch

from stochvis.models import WrappedModel
from stochvis.optvis.objectives import Activations, Objective

MONOTONE_TOLERANCE = 1e-5  # relative: a mean of sorted curves is ascending up to float rounding


def quantile_levels(quantiles: int) -> torch.Tensor:
    """The Q levels (k + ½)/Q, k = 0..Q−1, in (0, 1): the midpoints of Q equal slices of probability,
    so each level stands for the same share of the values (and W2² is their plain mean)."""
    check_quantiles(quantiles)
    return (torch.arange(quantiles, dtype=torch.float64) + 0.5) / quantiles


def check_quantiles(quantiles) -> int:
    if isinstance(quantiles, bool) or not isinstance(quantiles, int) or quantiles < 2:
        raise ValueError(f"quantiles must be an integer ≥ 2 (the number of levels of a channel's curve, "
                         f"e.g. 32 or 64), got {quantiles!r}")
    return quantiles


def channel_values(act: torch.Tensor) -> torch.Tensor:
    """(N, C, M): each channel's values per image. A map (N, C, H, W) gives M = H·W positions; a token
    layer (N, T, D) has its channels last (D) and M = T tokens; a flat layer (N, C) one value each."""
    if act.dim() == 4:
        return act.flatten(2)
    if act.dim() == 3:
        return act.transpose(1, 2)
    if act.dim() == 2:
        return act.unsqueeze(2)
    raise ValueError(f"cannot take channel distributions of an activation of shape {tuple(act.shape)}: "
                     "give (N, C, H, W) maps, (N, T, D) tokens or (N, C) vectors")


def channel_count(shape: Sequence[int]) -> int:
    """Channels of an activation shape *without* the batch dimension, by :func:`channel_values`' rule."""
    shape = tuple(shape)
    if len(shape) == 2:  # (T, D): tokens, channels last
        return int(shape[1])
    if len(shape) in (1, 3):
        return int(shape[0])
    raise ValueError(f"no channel distributions for an activation of shape {shape}")


@functools.lru_cache(maxsize=64)
def _interpolation(positions: int, quantiles: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices below/above and the weight of the upper one for each level: value i of M sorted values
    sits at level (i + ½)/M, so level t is at fractional index t·M − ½ (clamped to the ends)."""
    where = (quantile_levels(quantiles) * positions - 0.5).clamp(0, positions - 1)
    low = where.floor().long()
    high = (low + 1).clamp(max=positions - 1)
    return low, high, (where - low).float()


def channel_curves(act: torch.Tensor, quantiles: int) -> torch.Tensor:
    """(N, C, Q) quantile curves of every channel of every image, differentiable, in float32.
    ``act``: (N, C, H, W), (N, T, D) or (N, C); see :func:`channel_values`."""
    check_quantiles(quantiles)
    values = channel_values(act).float()
    if values.shape[2] == 0:
        raise ValueError(f"an activation of shape {tuple(act.shape)} has no positions to sort")
    ordered = values.sort(dim=2).values
    low, high, weight = (t.to(values.device) for t in _interpolation(values.shape[2], quantiles))
    return ordered[..., low] * (1 - weight) + ordered[..., high] * weight


def stack_curves(per_image: Sequence[torch.Tensor | object]) -> torch.Tensor:
    """One (N, C, Q) target from N curve sets (C, Q) (tensors or anything with ``.curves``), so one
    batch holds several classes: image i is matched to ``per_image[i]``."""
    curves = [as_curves(c, f"curves {i}") for i, c in enumerate(per_image)]
    if not curves:
        raise ValueError("stack_curves needs at least one curve set (C, Q)")
    shapes = {tuple(c.shape[-2:]) for c in curves}
    if len(shapes) > 1 or any(c.dim() != 2 for c in curves):
        raise ValueError(f"curve sets to stack must all be (C, Q) with the same C and Q, got "
                         f"{[tuple(c.shape) for c in curves]}")
    return torch.stack(curves)


def as_curves(value, what: str) -> torch.Tensor:
    """``value`` (a tensor or anything with ``.curves``) as checked float32 quantile curves (C, Q) or (N, C, Q):
    finite and ascending, else an error naming ``what`` — the one check of every target curve."""
    value = getattr(value, "curves", value)  # a stats.quantiles.ChannelQuantiles, without importing stats
    target = torch.as_tensor(value).detach().float().cpu()
    if target.dim() not in (2, 3) or target.shape[-1] < 2 or 0 in target.shape:
        raise ValueError(f"{what} must be quantile curves (C, Q) or one per image (N, C, Q) with Q ≥ 2, "
                         f"got shape {tuple(target.shape)}")
    if not torch.isfinite(target).all():
        raise ValueError(f"{what} contains NaN or Inf: check the statistics it came from")
    steps = target.diff(dim=-1)
    if (steps < -MONOTONE_TOLERANCE * target.abs().amax().clamp_min(1.0)).any():
        raise ValueError(f"{what} is not ascending along its last axis: a quantile curve (C, Q) rises with the "
                         f"level (shape {tuple(target.shape)}; transposed (Q, C)?)")
    return target


def _scale(target: torch.Tensor, what: str) -> torch.Tensor:
    """Mean square of each target row's curves: the distance of an all-zero activation, so a layer's
    distance is 1 there whatever the layer's magnitude (the normalised error of feature inversion)."""
    scale = target.pow(2).mean(dim=(-2, -1))
    if (scale == 0).any():
        raise ValueError(f"{what} is all zeros: the normalised distance is undefined (a dead layer? pick another)")
    return scale


class _Layer:
    """One layer's target, its normalisation and weight, checked once."""

    def __init__(self, layer: str, target, weight: float) -> None:
        self.layer, self.weight = layer, weight
        self.target = as_curves(target, f"target curves for layer {layer!r}")
        self.scale = _scale(self.target, f"target curves for layer {layer!r}")

    def distance(self, act: torch.Tensor) -> torch.Tensor:
        """Per image: mean over channels and levels of (curve − target)², divided by the target's scale."""
        target = self.target.to(act.device)
        channels = target.shape[-2]
        if channel_values(act).shape[1] != channels:
            raise ValueError(f"layer {self.layer!r} has {channel_values(act).shape[1]} channels here but its target "
                             f"curves have {channels}: curves of another layer or model?")
        if target.dim() == 3 and target.shape[0] not in (1, act.shape[0]):
            raise ValueError(f"layer {self.layer!r}: {target.shape[0]} per-image targets for a batch of "
                             f"{act.shape[0]} images: give (C, Q) for all, or exactly one (C, Q) per image")
        curves = channel_curves(act, target.shape[-1])
        error = (curves - target).pow(2).mean(dim=(1, 2))
        return error / self.scale.to(act.device)


def _weights(layers: list[str], weights) -> list[float]:
    if weights is None:
        return [1.0] * len(layers)
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(layers))
        if unknown:
            raise ValueError(f"weights for layers without target curves: {unknown}; the targets are for {layers}")
        values = [float(weights.get(layer, 1.0)) for layer in layers]
    else:
        values = [float(w) for w in weights]
        if len(values) != len(layers):
            raise ValueError(f"{len(values)} weights for {len(layers)} layers ({layers}): give one per layer "
                             "or a mapping {layer: weight}")
    if any(not w >= 0 for w in values) or sum(values) == 0:
        raise ValueError(f"layer weights must be ≥ 0 and not all zero, got {dict(zip(layers, values))}")
    return values


def sorted_match(
    targets: Mapping[str, torch.Tensor | object],
    weights: Mapping[str, float] | Sequence[float] | None = None,
    name: str | None = None,
) -> Objective:
    """VITAL's sort-matching term as an objective to maximise: per image, minus the weighted mean over
    layers of the normalised squared W2 distance of the image's channel distributions to ``targets``.

    ``targets``: {layer: curves}, curves (C, Q) for every image or (N, C, Q) one per image (build with
    :func:`stack_curves`), or a ``ChannelQuantiles`` (its ``.curves``); Q may differ between layers.
    Per layer the distance is mean_{c,k} (curve[c, k] − target[c, k])² divided by mean(target²), so
    an all-zero activation is at 1 and layers of different magnitudes weigh alike. ``weights``: a
    mapping {layer: w} (missing layers weigh 1) or one per layer in ``targets``' order; the score is
    −Σ w_l d_l / Σ w_l, exactly 0 at an image whose own curves are the targets, < 0 elsewhere.
    The objective declares every layer it reads, so the loop's forward stops after the deepest."""
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError("sorted_match needs target curves by layer, {layer: (C, Q) or (N, C, Q)}, got "
                         f"{type(targets).__name__} {'(empty)' if isinstance(targets, Mapping) else ''}".rstrip())
    layers = [str(layer) for layer in targets]
    per_layer = [_Layer(layer, targets[layer], w) for layer, w in zip(layers, _weights(layers, weights), strict=True)]
    total = sum(part.weight for part in per_layer)
    label = name or f"sorted_match({', '.join(layers)})"

    def fn(acts: Activations) -> torch.Tensor:
        score = None
        for part in per_layer:
            if part.weight == 0:
                continue
            term = part.weight * part.distance(acts[part.layer])
            score = term if score is None else score + term
        return -score / total

    def bind(model: WrappedModel) -> Objective:
        from stochvis.layers import layer_shape

        for part in per_layer:
            channels = channel_count(layer_shape(model, part.layer))
            if channels != part.target.shape[-2]:
                raise ValueError(f"{model.name} layer {part.layer!r} has {channels} channels but its target curves "
                                 f"have {part.target.shape[-2]}: curves of another layer or model?")
        return Objective(fn, layers, label)

    return Objective(fn, layers, label, bind=bind)


def distribution_distances(model: WrappedModel, images: torch.Tensor,
                           targets: Mapping[str, torch.Tensor | object]) -> dict[str, torch.Tensor]:
    """The normalised squared W2 distance of each layer, per image, {layer: (N,)}: what :func:`sorted_match`
    averages, measured on fixed images (no transforms, no gradient) to judge a result."""
    from stochvis.layers import capture

    parts = [_Layer(str(layer), curves, 1.0) for layer, curves in targets.items()]
    if not parts:
        raise ValueError("distribution_distances needs target curves by layer, {layer: (C, Q)}")
    with torch.no_grad():
        acts = capture(model, images, sorted({p.layer for p in parts}))
        return {p.layer: p.distance(acts[p.layer]).cpu() for p in parts}


__all__ = ["as_curves", "channel_count", "channel_curves", "channel_values", "check_quantiles", "distribution_distances",
           "quantile_levels", "sorted_match", "stack_curves"]
