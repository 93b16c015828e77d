"""Images whose channel distributions are a class's: VITAL's class visualisation, and the same term
as a building block for other objectives.

VITAL (Görgün, Schiele & Fischer, ICCV 2025, "More Understandable Feature Visualization through
Distribution Alignment and Relevant Information Flow") replaces "maximise the class logit" by
"match, at several layers, every channel's distribution of activations to the class's", the target
being the mean sorted activations of real class images (~50 in the paper), the loss the squared
1-D Wasserstein distance per channel (:func:`~stochvis.optvis.distribution_matching.sorted_match`),
optimised under transformation robustness (jitter). No logit is read, so the image cannot become
an adversarial pattern that only the classifier's last layer likes; it has to hold the features
class images hold, in their amounts. This module is that row, implemented from the paper's
description (none of its code is used), on the one loop
(:func:`stochvis.optvis.optimize.optimize`) with the project's transforms.

:func:`match_distributions` is the general form: the same term plus any other objective, e.g. a
whole-map inversion target of a deeper layer (``stochvis.methods.inversion.reconstruction_loss``)
that fixes *where* things are while the shallower layers' distributions say *what* textures and
amounts fill it — the statistics-driven method of the project (a sampled deep layout plus
per-channel distribution matching below it).

Per-image targets: curves (N, C, Q) give image i its own target, so one batch holds several classes
(:func:`class_targets` stacks per-class curves, several images per class), and each image may have a target of
its own drawn from its class's density of curves (:func:`drawn_targets`): the source documents' "a new realistic
image per sample", where VITAL gives every image of a class the same mean target.

What we chose, not the paper (which reports ImageNet networks at 224 px): the layers are the
caller's choice (the keys of ``curves_by_layer``: e.g. three to five from early to late); jitter defaults
to 1/28 of the image side (8 px at 224, Lucent's value) and is the only transform unless ``scale``/
``rotate`` are set; Adam at lr 0.05 on the Fourier parameterisation by default — on EfficientNet-Lite0
at 64 px (blocks 0–4, 4 photos as per-image targets, 120 steps) it ended at a mean distance of 0.045
where pixels ended at 0.074, from 0.58 for a grey-noise start; on the 16 px test network pixels
converge faster (``param="pixels"``). No TV unless ``tv`` is set; no flips (the project has no
flip transform yet).

:func:`match_in_outline` is the same term inside a given outline: matched distributions fix texture, colour and
amounts, not layout, so the image is a foreground and a backdrop blended by a fixed mask
(:class:`~stochvis.optvis.shaped.ShapedParam`, e.g. an outline drawn from a class's shape model,
:mod:`stochvis.stats.silhouettes`), the whole image matched as real composites of object and background are
measured, and a term (e.g. the capped class evidence) asked of the object alone, on grey.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import torch

from stochvis.inputs import image_size
from stochvis.models import WrappedModel
from stochvis.optvis import params as P
from stochvis.optvis import regularizers as R
from stochvis.optvis.distribution_matching import distribution_distances, sorted_match, stack_curves
from stochvis.optvis.objectives import Objective, as_objective, on_rows
from stochvis.optvis.optimize import OptimizationResult, optimize
from stochvis.optvis.shaped import ParamFactory, shaped

PARAMS = ("fft", "pixels", "cutout")
_NOT_PIXELS = {"fft": ("Fourier", "fft"), "cutout": ("cut-out", P.cutout)}  # name → (its words, its spec)


def _targets(curves_by_layer: Mapping) -> dict[str, torch.Tensor]:
    """{layer: (C, Q) or (N, C, Q)} from tensors or ChannelQuantiles (their ``.curves``)."""
    if not isinstance(curves_by_layer, Mapping) or not curves_by_layer:
        raise ValueError("curves_by_layer must map layers to target curves, {layer: (C, Q) or (N, C, Q)}, e.g. "
                         "stochvis.stats.quantiles.collect_quantiles(model, class_images, layers)")
    out = {}
    for layer, value in curves_by_layer.items():
        value = getattr(value, "curves", value)
        out[str(layer)] = torch.as_tensor(value).detach().float().cpu()
    return out


def _batch_of(targets: Mapping[str, torch.Tensor], batch: int | None) -> int:
    """The batch: the per-image targets' N (all must agree), else ``batch`` (default 1)."""
    sizes = {layer: t.shape[0] for layer, t in targets.items() if t.dim() == 3 and t.shape[0] > 1}
    per_image = set(sizes.values())
    if len(per_image) > 1:
        raise ValueError(f"per-image targets disagree on the number of images: {sizes}")
    if per_image:
        (n,) = per_image
        if batch is not None and batch != n:
            raise ValueError(f"batch={batch} but the targets hold one curve set per image for {n} images: "
                             f"use batch={n} (or (C, Q) targets shared by the whole batch)")
        return n
    return 1 if batch is None else batch


def _transforms(size: tuple[int, int], jitter: int | None, **strengths: float) -> list[R.Regularizer]:
    """Every matching run's regularisers: jitter of ``jitter`` pixels, default 1/28 of the shorter side (at
    least 1), plus any other ``from_strengths`` strengths (scale, rotate, tv)."""
    shift = max(1, round(min(size) / 28)) if jitter is None else int(jitter)
    return R.from_strengths(jitter=shift, normalize=False, **strengths)


def class_targets(curves_per_class: Sequence[Mapping], per_class: int = 1) -> dict[str, torch.Tensor]:
    """Per-image targets for a batch of several classes: {layer: (K·per_class, C, Q)}, images
    k·per_class … (k+1)·per_class − 1 matched to class k's curves (``curves_per_class[k]``:
    {layer: (C, Q) or ChannelQuantiles}, the same layers for every class)."""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer (images per class), got {per_class!r}")
    classes = [_targets(c) for c in curves_per_class]
    if not classes:
        raise ValueError("class_targets needs the curves of at least one class, [{layer: (C, Q)}, ...]")
    layers = list(classes[0])
    for k, item in enumerate(classes):
        if list(item) != layers:
            raise ValueError(f"class {k} has curves for layers {list(item)}, class 0 for {layers}: give every class "
                             "the same layers")
    return {layer: stack_curves([c[layer] for c in classes for _ in range(per_class)]) for layer in layers}


def drawn_targets(densities: Sequence, per_class: int = 1, *, seed: int = 0,
                  temperature: float | Sequence[float] = 1.0,
                  layers: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    """Per-image targets *drawn* from each class's density of curves
    (:class:`~stochvis.stats.curve_density.CurveDensity`), {layer: (K·per_class, C, Q)} in :func:`class_targets`'
    order: each image its own whole set of curves, drawn jointly over the layers, instead of its class's mean —
    a new target, hence a new image, per draw. Class k's draws use ``seed`` and k (reproducible, distinct);
    ``temperature``: one for every class or one per class (e.g. each class's
    :func:`~stochvis.stats.curve_density.novelty_temperature`); ``layers``: a subset of the densities' layers
    (default all)."""
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be a positive integer (images per class), got {per_class!r}")
    if not densities:
        raise ValueError("drawn_targets needs the curve density of at least one class "
                         "(stochvis.stats.curve_density.collect_curve_density(model, class_images, layers))")
    if isinstance(temperature, str):
        raise ValueError(f"temperature must be a number ≥ 0 or one per class (e.g. each class's "
                         f"stats.curve_density.novelty_temperature), got {temperature!r}")
    temperatures = [temperature] * len(densities) if isinstance(temperature, (int, float)) else list(temperature)
    if len(temperatures) != len(densities):
        raise ValueError(f"give one temperature, or one per class: {len(temperatures)} for {len(densities)} classes")
    drawn = [d.sample(per_class, seed=1000 * int(seed) + k, temperature=t)
             for k, (d, t) in enumerate(zip(densities, temperatures))]
    wanted = list(drawn[0]) if layers is None else [str(layer) for layer in layers]
    missing = sorted({layer for d in drawn for layer in wanted if layer not in d})
    if missing:
        raise ValueError(f"no curves for layers {missing} in the densities; they hold {list(drawn[0])}")
    return {layer: torch.cat([d[layer] for d in drawn]) for layer in wanted}


def _param(param, init: torch.Tensor | None):
    """A param spec for ``optimize`` from "pixels" / "fft" / "cutout" (or any spec optimize takes, as is)."""
    if isinstance(param, str):
        if param in ("pixels", "pixel"):
            return functools.partial(P.pixel, init=init) if init is not None else "pixel"
        if param in _NOT_PIXELS:
            name, spec = _NOT_PIXELS[param]
            if init is not None:
                raise ValueError(f"init= starts pixels from images; the {name} parameterisation cannot: "
                                 "use param='pixels'")
            return spec
        raise ValueError(f"param={param!r}: use one of {', '.join(PARAMS)} (or an ImageParam / factory)")
    return param


def match_distributions(
    model: WrappedModel,
    curves_by_layer: Mapping,
    *,
    extra_objective: Objective | None = None,
    strength: float = 1.0,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    size: int | tuple[int, int] | None = None,
    steps: int = 256,
    batch: int | None = None,
    seed: int = 0,
    lr: float = 0.05,
    jitter: int | None = None,
    scale: float = 0.0,
    rotate: float = 0.0,
    tv: float = 0.0,
    param="fft",
    init: torch.Tensor | None = None,
    regularizers: Sequence[R.Regularizer] | None = None,
    extra_regularizers: Sequence[R.Regularizer] = (),
    optimizer: str = "adam",
    progress: bool = False,
    **optimize_options,
) -> OptimizationResult:
    """Optimise images whose channel distributions at the layers of ``curves_by_layer`` match them,
    plus ``extra_objective`` (any objective, e.g. an inversion target of a deeper layer), in one run
    of :func:`~stochvis.optvis.optimize.optimize`.

    The objective is ``strength · sorted_match(curves_by_layer, weights) + extra_objective``; the
    matching term is 0 at a perfect match and −1 for an all-zero activation, so ``strength`` weighs it
    against the other term in those units. ``curves_by_layer``: {layer: (C, Q) for every image, or
    (N, C, Q) one per image (:func:`class_targets`), or a ChannelQuantiles}. ``batch``: the per-image
    targets' N, else 1. ``size``: default the model's input size (curves compare across sizes).
    ``regularizers`` default to ``from_strengths(jitter, scale, rotate, tv)`` with ``jitter`` of
    1/28 of the image side (at least 1); pass a list to replace them, or add to them with
    ``extra_regularizers`` (e.g. :class:`~stochvis.optvis.regularizers.ColourQuantiles`, the pixels' own
    distributions beside the layers'). ``param``: "fft" (Olah et al.'s
    decorrelated Fourier basis), "pixels" (``init`` images to start from, default grey plus
    noise), "cutout" (a Fourier object over a smooth backdrop, :class:`~stochvis.optvis.params.CutoutParam`),
    or any param ``optimize`` takes. Other options go to
    ``optimize`` (``octaves``, ``record_every``, ``autocast_bf16``, ``device``...).
    """
    targets = _targets(curves_by_layer)
    batch = _batch_of(targets, batch)
    matching = sorted_match(targets, weights)
    objective = None if not strength else matching if strength == 1 else float(strength) * matching
    if extra_objective is not None:
        extra = as_objective(extra_objective)
        objective = extra if objective is None else objective + extra
    if objective is None:
        raise ValueError("strength=0 and no extra_objective: nothing to optimise")
    height, width = image_size(size) if size is not None else tuple(model.input_size)
    if regularizers is None:
        regularizers = _transforms((height, width), jitter, scale=scale, rotate=rotate, tv=tv)
    return optimize(model, objective, _param(param, init), [*regularizers, *extra_regularizers], steps=steps, lr=lr,
                    optimizer=optimizer, batch=batch, size=(height, width), seed=seed, progress=progress,
                    **optimize_options)


def vital(
    model: WrappedModel,
    curves_by_layer: Mapping,
    *,
    size: int | tuple[int, int] | None = None,
    steps: int = 256,
    batch: int | None = None,
    seed: int = 0,
    lr: float = 0.05,
    jitter: int | None = None,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    param="fft",
    **options,
) -> OptimizationResult:
    """VITAL's class visualisation (Görgün et al. 2025): images whose every channel, at every layer of
    ``curves_by_layer``, has the class's distribution — the mean sorted activations of real class
    images (``stochvis.stats.quantiles.collect_quantiles``) — under jitter, with no class logit.
    Per-image targets (N, C, Q) put several classes in one batch (:func:`class_targets`).
    ``options`` go to :func:`match_distributions` (``scale``, ``rotate``, ``tv``, ``init``,
    ``regularizers``, ``octaves``...)."""
    if options.get("extra_objective") is not None:
        raise ValueError("vital matches distributions only; to add a term use match_distributions(extra_objective=...)")
    options.pop("extra_objective", None)
    return match_distributions(model, curves_by_layer, size=size, steps=steps, batch=batch, seed=seed, lr=lr,
                               jitter=jitter, weights=weights, param=param, **options)


def match_in_outline(
    model: WrappedModel,
    curves_by_layer: Mapping,
    mask: torch.Tensor,
    *,
    foreground: ParamFactory,
    backdrop: ParamFactory,
    extra_objective: Objective | None = None,
    object_objective: Objective | None = None,
    object_curves: Mapping | None = None,
    backdrop_curves: Mapping | None = None,
    penalties: Sequence[R.Penalty] = (),
    object_penalties: Sequence[R.Penalty] = (),
    strength: float = 1.0,
    weights: Mapping[str, float] | Sequence[float] | None = None,
    steps: int = 256,
    seed: int = 0,
    lr: float = 0.05,
    jitter: int | None = None,
    progress: bool = False,
    **optimize_options,
) -> tuple[torch.Tensor, OptimizationResult]:
    """Images (N, C, H, W) in [0, 1] whose object has the outline ``mask`` (N, 1, H, W), and the run.

    The objective: ``strength`` · the sort match of the whole images to ``curves_by_layer`` (as
    :func:`~stochvis.methods.distribution_matching.match_distributions`: (C, Q) for all or (N, C, Q) per image) plus
    ``extra_objective`` on them, plus ``object_objective`` on the objects alone on grey (a second view in the same
    batch, so two forwards' worth per step). ``object_curves`` (same forms): the objects alone on grey matched to
    them too, at the same ``strength`` — the curves of real objects on grey, so the inside of the outline holds
    an object's distributions, not the whole composite's. ``backdrop_curves`` (same forms): the backdrop alone,
    whole, matched to them (a third view) — e.g. the curves of real backgrounds, so the backdrop is calm where
    photographs are. ``penalties``: image priors on the whole images only (not on the other views), e.g. a
    class's ring spectrum (:class:`~stochvis.optvis.regularizers.SpectrumMatch`), per-image targets in the order of
    ``mask``; ``object_penalties``: the same on the objects alone on grey (that view is added if no other asks for
    it), e.g. a prior fitted on real cut-outs alone. ``foreground`` and ``backdrop`` build the two images
    (``batch=, size=, seed=``). Jitter of 1/28 of the side by default, as every matching row."""
    n, size = mask.shape[0], tuple(mask.shape[-2:])
    # each view's curves, checked against the batch: the whole image's always, the regions' where given
    matched = {view: _targets(curves) for view, curves in
               (("composite", curves_by_layer), ("object", object_curves), ("backdrop", backdrop_curves))
               if curves is not None}
    for view_targets in matched.values():
        _batch_of(view_targets, n)
    wants_object = object_objective is not None or "object" in matched or bool(object_penalties)
    views = ("composite",) + (("object",) if wants_object else ()) \
        + (("backdrop",) if "backdrop" in matched else ())
    param = shaped(mask, foreground, backdrop, seed=seed, views=views)
    start, stop = param.rows("composite")
    objective = float(strength) * on_rows(sorted_match(matched["composite"], weights), start, stop)
    if extra_objective is not None:
        objective = objective + on_rows(as_objective(extra_objective), start, stop)
    if object_objective is not None:
        objective = objective + on_rows(as_objective(object_objective), *param.rows("object"))
    for view in ("object", "backdrop"):  # the regions' curves, at the whole image's strength
        if view in matched:
            objective = objective + float(strength) * on_rows(sorted_match(matched[view], weights), *param.rows(view))
    priors = [R.OnRows(penalty, start, stop) for penalty in penalties] \
        + [R.OnRows(penalty, *param.rows("object")) for penalty in object_penalties]
    run = optimize(model, objective, param, [*_transforms(size, jitter), *priors], steps=steps, lr=lr,
                   batch=param.batch, size=size, seed=seed, progress=progress, **optimize_options)
    return run.param.composites(), run


def distances(model: WrappedModel, images: torch.Tensor, curves_by_layer: Mapping) -> dict[str, torch.Tensor]:
    """Normalised squared W2 distance of ``images``' channel distributions to the targets, per layer
    and image ({layer: (N,)}), without transforms: how well a result matched."""
    return distribution_distances(model, images, _targets(curves_by_layer))


__all__ = ["PARAMS", "class_targets", "distances", "drawn_targets", "match_distributions", "match_in_outline", "vital"]
