"""The natural-image table: class visualisations of an ImageNet network against real composites.

Why: the Fashion table answers the source documents' question in a 28×28 grey world. Their own setting is an
ImageNet network and colour photographs of a class. Here the subject is EfficientNet-Lite0 (every row
optimises it and only it; a class is a *set* of ImageNet classes, its objective the log-sum-exp of their
logits), the real references are Tux Paint cut-outs on landscape photographs (:mod:`stochvis.worlds.natural`,
train and held-out disjoint in cut-outs *and* photos), and the judges were never optimised: Lite1 and Lite2
(same family: easy to fool, so their confidence alone decides nothing) and VGG16's pooled conv5_3 features
(another family; realism only, it has no head offline). ``python -m stochvis.experiments.natural [--quick]``.

Rows: Simonyan 2013, olah2017, MACO (fel2023) under the natural and a class-measured magnitude, a VITAL-style
row (Görgün et al. 2025: each channel's sorted activations matched to the class's, at five layers, no class
logit), and the statistics-driven family with no generator: AM with a quantile prior (the class-set logit
plus the class's channel distributions at shallow layers) and a sampled layout (a deep grid drawn from the
class Gaussian, inverted, with the shallow distributions matched), alone, with the class-set logit, and with
the class evidence capped at the level of real training composites — the last also on a cut-out
parameterisation (an object over a smooth backdrop, chosen among eight designs on training composites:
``scripts/choose_cutout.py``); and VITAL's matching at every block of the subject instead of five layers, plus the
capped evidence, with no layout (the layers chosen on training composites: ``scripts/choose_match_layers.py``) —
and the same with each image's curves *drawn* from the kind's density of curves
(:class:`~stochvis.stats.curve_density.CurveDensity`, its main components chosen on training composites:
``scripts/choose_curve_components.py``) instead of the kind's mean: a new target per image, its spread
calibrated on training curves to be as new as a new real image's (``scripts/choose_drawn_temperature.py``) —
and that row again on a Fourier image whose colour basis is the kind's training composites' instead of
ImageNet's (:func:`~stochvis.optvis.params.measure_colour`: chroma as mobile as the kind's photographs have it;
chosen on training composites: ``scripts/choose_colour_basis.py``) — and that row once more on an image whose object
has an outline drawn from the kind's shape model of its training cut-outs (:mod:`stochvis.stats.silhouettes`; the
evidence asked of the object alone too: ``scripts/try_drawn_silhouettes.py``).
Statistics come from training composites only; nothing is tuned on the held-out ones.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from stochvis.evaluation import metrics
from stochvis.evaluation.workers import in_workers
from stochvis.experiments import tables
from stochvis.experiments.natural_setting import (  # noqa: F401 (the table's Setting, re-exported for its users)
    LAYOUT,
    MATCH_LAYERS,
    Protocol,
    Setting,
    TrainingStatistics,
    every_block,
    natural_setting,
    quick_protocol,
)
from stochvis.methods import distribution_matching as DM
from stochvis.methods.inversion import reconstruction_loss
from stochvis.models import WrappedModel
from stochvis.optvis import objectives as O
from stochvis.optvis import presets
from stochvis.stats import sampling, silhouettes
from stochvis.worlds import natural

SUBJECT = "efficientnet_lite0"
JUDGES = ("efficientnet_lite1", "efficientnet_lite2")
FEATURE_JUDGE, FEATURE_LAYER = "vgg16", "conv5_3"  # another family's pooled conv features: realism only
REAL, BASELINE, VITAL = "real (held out)", "Simonyan 2013", "VITAL-style (sort matching)"
RIVALS = (BASELINE, "olah2017", "MACO (natural magnitude)", "MACO (class magnitude)")  # the goal's AM rows and peers
PRIOR_LAYERS = ("stem", "block1", "block2", "block3")  # the shallower layers a statistics prior matches
EVERY_BLOCK_ROW = "every block's distributions + class evidence"
DRAWN_ROW = "drawn distributions (every block) + class evidence"
DRAWN_COLOUR_ROW = "drawn distributions + class evidence, kind's colour basis"
SILHOUETTE_ROW = "the colour-basis row in a drawn silhouette"
SILHOUETTE_EXTENT = (0.65, 1.0)  # the outline's square (with its margin) over the canvas side: the outline spans
# 0.54-0.83 of it, about the world's cut-outs (worlds.natural.SCALE_RANGE)
FAMILY = {REAL: "real", BASELINE: "baseline", "olah2017": "pixels+transforms", "MACO (natural magnitude)": "peer",
          "MACO (class magnitude)": "peer", VITAL: "peer",
          "AM + quantile prior": "statistics", "sampled layout + quantiles": "statistics",
          "sampled layout + quantiles + class logit": "statistics",
          "sampled layout + quantiles + class evidence": "statistics",
          "sampled layout + quantiles + class evidence, cut-out": "statistics", EVERY_BLOCK_ROW: "statistics",
          SILHOUETTE_ROW: "statistics",
          DRAWN_ROW: "statistics", DRAWN_COLOUR_ROW: "statistics"}
METHODS = tuple(m for m in FAMILY if m != REAL)
STATISTICS_METHODS = [m for m, f in FAMILY.items() if f == "statistics"]
COLUMNS = ("method", "family", "class", "judge", "judge_confidence", "judge_top1", "fid", "kid", "plausibility",
           "diversity", "real_diversity", "novelty", "size", "steps", "crops", "seconds_per_image", "n", "seed")


# -- the rows: each maps a Setting to {kind: images} -----------------------------------------------------------

def simonyan2013(s: Setting) -> dict[str, torch.Tensor]:
    run = presets.run("simonyan2013", s.subject, O.class_set_logit(s.per_image(s.sets)), **s.common())
    return s.split(run.images)


def olah2017(s: Setting) -> dict[str, torch.Tensor]:
    run = presets.run("olah2017", s.subject, O.class_set_logit(s.per_image(s.sets)), **s.common())
    return s.split(run.images)


def maco(s: Setting, *, measured: bool) -> dict[str, torch.Tensor]:
    """fel2023 (phase-only Fourier parameterisation, the magnitude fixed; NAdam; importance) for 256 steps with
    its crops as they work on this budget (:func:`presets.short_maco`: ``maco_crops`` crops per step of 1.0 → 0.7
    of the side, lr 0.3). The paper's schedule (lr 1.0, crops 0.5 → 0.05, 1-2 crops per step instead of Xplique's
    32) left the subject itself at 0.07-0.11 on birds after 256 steps, at 128 px and on a 512-px image whose crops
    go to 128 px alike: colour noise, measured here. The magnitude: the natural one, or one per class measured
    from its training composites when ``measured``."""
    out = {}
    kinds = s.protocol.kinds if measured else [None]
    for kind in kinds:
        wanted = [k for k in s.protocol.targets() if kind is None or k == kind]
        spectrum = s.statistics.class_spectra[kind] if measured else s.natural_spectrum
        run = presets.run("fel2023", s.subject, O.class_set_logit([s.sets[k] for k in wanted]), spectrum=spectrum,
                          **{**s.common(), "batch": len(wanted), "steps": s.protocol.maco_steps,
                             **presets.short_maco(s.protocol.size, crops=s.protocol.maco_crops)})
        if measured:
            out[kind] = run.images
        else:
            out = metrics.by_target(run.images, wanted, s.protocol.kinds)
    return out


def vital_style(s: Setting, layers: Sequence[str] = MATCH_LAYERS, **options) -> dict[str, torch.Tensor]:
    """The peer row at VITAL's five layers (or ``layers``); ``options`` go to ``DM.vital`` (``scale``,
    ``rotate``...: the explorations' variants)."""
    return s.split(DM.vital(s.subject, s.curve_targets(layers), **s.common(), **options).images)


def quantile_prior(s: Setting) -> dict[str, torch.Tensor]:
    """The class-set logit plus the class's channel distributions at the shallow layers (fft, jitter)."""
    run = DM.match_distributions(s.subject, s.curve_targets(PRIOR_LAYERS),
                                 extra_objective=O.class_set_logit(s.per_image(s.sets)),
                                 strength=s.protocol.prior_strength, **s.common())
    return s.split(run.images)


def drawn_layout_loss(s: Setting, statistics: Mapping[str, object] | None = None, feature: str = LAYOUT) -> O.Objective:
    """The inversion loss of a deep layout drawn per image from each kind's Gaussian of ``feature`` (default the
    table's :data:`LAYOUT` from :attr:`TrainingStatistics.layout`; ``statistics``: {kind: Statistics} of another
    feature), rectified, weighed by ``layout_weight``: where things are, from the draw. Seeded by the optimisation
    seed and the kind's position."""
    p = s.protocol
    statistics = s.statistics.layout if statistics is None else statistics
    drawn = torch.cat([sampling.draw(statistics[k], feature, p.samples, seed=p.seed + i, rectify="clip").float()
                       for i, k in enumerate(p.kinds)])
    return reconstruction_loss({feature: drawn}, weights=[p.layout_weight])


def sampled_layout(s: Setting, logit_weight: float = 0.0, evidence_weight: float = 0.0, param: object = "fft",
                   layers: Sequence[str] = PRIOR_LAYERS) -> dict[str, torch.Tensor]:
    """A deep layout drawn from the class Gaussian of :data:`LAYOUT`, inverted, with the shallow channel
    distributions matched: where things are from the draw, what they are made of from the quantiles.
    The kind's evidence, which a layout of one deep layer leaves weak: ``logit_weight`` > 0 adds that much
    of the class-set logit (uncapped: it keeps pushing), ``evidence_weight`` > 0 that much of the set's
    log-probability capped at the subject's mass on real training composites of the kind
    (:func:`~stochvis.optvis.objectives.class_set_evidence`: as convincing as real images, no more).
    ``param``: the image's parameterisation, "fft", "cutout" (an object over a smooth backdrop,
    :class:`~stochvis.optvis.params.CutoutParam`: real composites are a cut-out on a photograph) or any param
    spec :func:`~stochvis.methods.distribution_matching.match_distributions` takes; ``layers``: those whose channel
    distributions are matched (default the four below the layout)."""
    p = s.protocol
    layout = drawn_layout_loss(s)
    if logit_weight:
        layout = layout + logit_weight * O.class_set_logit(s.per_image(s.sets))
    if evidence_weight:
        layout = layout + evidence_weight * s.capped_evidence()
    run = DM.match_distributions(s.subject, s.curve_targets(layers), extra_objective=layout, strength=p.prior_strength, param=param,
                                 **s.common())
    return s.split(run.images)


def matched_with_evidence(s: Setting, layers: Sequence[str] = MATCH_LAYERS, param: object = "fft", *,
                          drawn: bool = False, targets: Mapping[str, torch.Tensor] | None = None,
                          colours: bool = False, extra_objective: O.Objective | None = None,
                          **options) -> dict[str, torch.Tensor]:
    """VITAL's matching (the class's channel distributions at ``layers``) plus the capped class evidence of
    :func:`sampled_layout`, with no layout: what the evidence alone adds to the peer row. Not a table row
    (``scripts/try_quantiles_with_evidence.py`` measures it); at every block of the subject it is the table's
    every-block row (the layers chosen on training composites: ``scripts/choose_match_layers.py``). ``options`` go to ``match_distributions``
    (``scale``, ``rotate``, ``jitter``...: ``scripts/try_transform_robustness.py``). ``drawn``: each image's targets
    drawn from the kind's density of curves (:meth:`Setting.drawn_targets`) instead of the kind's mean curves —
    at every block, the table's drawn row. ``targets``: per-image targets of one's own ({layer: (N, C, Q)}, the
    order of :meth:`Protocol.targets`: a candidate's in ``scripts/choose_*.py``) instead of either. ``colours``:
    the kind's opponent-colour curves too (:meth:`Setting.colour_penalty`), weighed as one more matched layer
    (``prior_strength`` / the number of layers): the pixels as the shallowest layer. ``extra_objective``: a term
    beside the evidence (e.g. :func:`drawn_layout_loss`: ``scripts/try_finer_layout.py``)."""
    p = s.protocol
    if targets is not None and drawn:
        raise ValueError("give drawn=True (the kinds' densities) or targets (one's own), not both")
    evidence = p.evidence_weight * s.capped_evidence()
    if extra_objective is not None:
        evidence = extra_objective + evidence
    if targets is None:
        targets = s.drawn_targets(layers, p.drawn_temperature) if drawn else s.curve_targets(layers)
    if colours:
        share = p.prior_strength / len(targets)
        options["extra_regularizers"] = [*options.get("extra_regularizers", ()), s.colour_penalty(share)]
    run = DM.match_distributions(s.subject, targets, extra_objective=evidence, strength=p.prior_strength,
                                 param=param, **s.common(), **options)
    return s.split(run.images)


def drawn_silhouettes(s: Setting, bandwidth: float | str = "silverman", scale: tuple[float, float] | None = None
                      ) -> torch.Tensor:
    """One outline per image (N, 1, size, size), drawn from its kind's shape model
    (:attr:`TrainingStatistics.silhouettes`: the kernel density of the training cut-outs' outlines at Silverman's
    bandwidth) and placed at a drawn size, position and facing: its square's side drawn from
    :data:`SILHOUETTE_EXTENT`, or, ``scale``, the shape's own geometric-mean size
    (:func:`~stochvis.stats.silhouettes.place`). Seeded by the optimisation seed and the kind's position."""
    p, shapes = s.protocol, s.statistics.silhouettes
    return torch.cat([silhouettes.place(shapes[k].draw(p.samples, seed=1000 * p.seed + i, bandwidth=bandwidth),
                                        p.size, extent=SILHOUETTE_EXTENT, seed=1000 * p.seed + i, scale=scale)
                      for i, k in enumerate(p.kinds)])


def in_drawn_silhouette(s: Setting, object_evidence: bool = True, foreground: Callable | None = None,
                        object_curves: bool = True, outlines: torch.Tensor | None = None,
                        backdrop: Callable | None = None,
                        backdrop_curves: Mapping[str, Mapping[str, torch.Tensor]] | None = None,
                        object_colours: str = "cut-outs", evidence: O.Objective | None = None,
                        **match_options: object) -> dict[str, torch.Tensor]:
    """The colour-basis row (drawn distributions at every block, the capped evidence, the kind's colour basis) on an
    image whose object has an outline drawn from the kind's shape model (:func:`drawn_silhouettes`): a foreground and
    a backdrop, each drawn on its own colour basis (below), blended by it
    (:func:`~stochvis.methods.distribution_matching.match_in_outline`). The whole image is matched, as real composites
    are measured; the evidence is asked of the whole image and, ``object_evidence``, of the object alone on grey, so the
    kind is inside the outline (two views per step: twice the cost), and, ``object_curves``, the object alone is
    matched to the kind's real objects alone on grey (:meth:`Setting.object_curve_targets`: every block from
    ``Protocol.object_curves_from`` on), so the inside of the outline holds an object's distributions, not only its
    evidence, and the whole image's small patches are held to its kind's photographs' (:meth:`Setting.patch_prior`,
    ``scripts/try_patch_prior.py``; an exploration's ``penalties`` come after it). The object is drawn by an
    untrained deep decoder plus a slower Fourier image for its texture (:meth:`Setting.cutout_colour_decoder`;
    ``Protocol.object_decoder_detail=None``: a Fourier image alone, :meth:`Setting.cutout_colour_fft`, as before
    ``scripts/try_deep_decoder_detail_on_four_seeds.py``), on the colour basis of the kind's cut-outs' own pixels
    (``object_colours="cut-outs"``), the backdrop the same way on the kind's composites' basis
    (:meth:`Setting.class_colour_decoder`; ``Protocol.backdrop_decoder_detail=None``: a Fourier image, as before
    ``scripts/try_decoder_backdrop.py``; ``object_colours="kind"`` puts the object on the composites' basis too, a
    Fourier image, as before ``scripts/try_object_colours.py``). Chosen on training composites:
    ``scripts/try_drawn_silhouettes.py`` (the outline), ``scripts/try_object_curves.py`` (the objects'
    curves) and ``scripts/try_object_colours.py`` (the cut-outs' colours); on validation composites
    ``scripts/try_coarser_object_curves.py`` (the objects' curves from block3 on). ``foreground``: another param factory for the object (an exploration's:
    ``scripts/try_smoother_object.py``), ``backdrop`` for the backdrop (``scripts/try_smoother_backdrop.py``);
    ``outlines``: other masks (N, 1, size, size) than :func:`drawn_silhouettes`'
    (``scripts/try_world_sized_outlines.py``); ``backdrop_curves`` (kind → layer → (C, Q)): the backdrop alone
    matched to them too, a third view (``scripts/try_calm_backdrop.py``); ``evidence``: another objective for the
    capped evidence's place in both views (``scripts/try_drawn_members.py``: :meth:`Setting.drawn_member_evidence`,
    weighed by the caller); ``match_options``: more of
    :func:`~stochvis.methods.distribution_matching.match_in_outline`'s keywords (an exploration's ``penalties``:
    ``scripts/try_spectrum_prior.py``)."""
    p = s.protocol
    if object_colours not in ("cut-outs", "kind"):
        raise ValueError(f"object_colours={object_colours!r}: 'cut-outs' (the kind's cut-outs' own pixels) or 'kind' "
                         "(its composites', as the backdrop)")
    if evidence is None:
        evidence = p.evidence_weight * s.capped_evidence()
    colour = s.class_colour_fft()
    if foreground is None and object_colours == "kind":
        foreground = colour
    elif foreground is None:
        foreground = s.cutout_colour_fft() if p.object_decoder_detail is None else s.cutout_colour_decoder()
    if backdrop is None and p.backdrop_decoder_detail is not None:
        backdrop = s.class_colour_decoder()
    penalties = [*s.patch_prior(), *match_options.pop("penalties", ())]
    images, _ = DM.match_in_outline(s.subject, s.drawn_targets(every_block(s.subject), p.drawn_temperature),
                                    drawn_silhouettes(s) if outlines is None else outlines,
                                    foreground=foreground, backdrop=backdrop or colour,
                                    extra_objective=evidence,
                                    object_objective=evidence if object_evidence else None,
                                    object_curves=s.object_curve_targets() if object_curves else None,
                                    backdrop_curves=None if backdrop_curves is None else
                                    DM.class_targets([backdrop_curves[k] for k in p.kinds], per_class=p.samples),
                                    strength=p.prior_strength,
                                    penalties=penalties, steps=p.steps, seed=p.seed, **match_options)
    return s.split(images)


ROWS: dict[str, Callable[[Setting], dict[str, torch.Tensor]]] = {
    BASELINE: simonyan2013, "olah2017": olah2017,
    "MACO (natural magnitude)": functools.partial(maco, measured=False),
    "MACO (class magnitude)": functools.partial(maco, measured=True),
    VITAL: vital_style,
    "AM + quantile prior": quantile_prior, "sampled layout + quantiles": sampled_layout,
    "sampled layout + quantiles + class logit": lambda s: sampled_layout(s, logit_weight=s.protocol.logit_weight),
    "sampled layout + quantiles + class evidence":
        lambda s: sampled_layout(s, evidence_weight=s.protocol.evidence_weight),
    "sampled layout + quantiles + class evidence, cut-out":
        lambda s: sampled_layout(s, evidence_weight=s.protocol.evidence_weight, param="cutout"),
    EVERY_BLOCK_ROW: lambda s: matched_with_evidence(s, every_block(s.subject)),
    DRAWN_ROW: lambda s: matched_with_evidence(s, every_block(s.subject), drawn=True),
    DRAWN_COLOUR_ROW: lambda s: matched_with_evidence(s, every_block(s.subject), drawn=True,
                                                      param=s.class_colour_fft()),
    SILHOUETTE_ROW: in_drawn_silhouette,
}
COST = {"MACO (natural magnitude)": 2, "MACO (class magnitude)": 2}  # crops per step: the longest rows go first
FORWARDS = {SILHOUETTE_ROW: 2}  # views per step (the image and its object alone): it goes early too


def _timed(s: Setting, name: str) -> tuple[dict[str, torch.Tensor], float]:
    start = time.perf_counter()
    images = ROWS[name](s)
    return images, (time.perf_counter() - start) / len(s.protocol.targets())


def run(s: Setting, methods: Sequence[str] = METHODS, *, workers: int = 1
        ) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, float]]:
    """Images ({method: {kind: images}}) and seconds per image of each row, plus the held-out real row;
    ``workers`` > 1 runs the rows side by side in forked single-threaded processes (same images)."""
    unknown = [m for m in methods if m not in ROWS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(map(repr, unknown))}: choose from {', '.join(ROWS)}")
    order = sorted(methods, key=lambda m: -max(COST.get(m, 1), FORWARDS.get(m, 1)))
    results = dict(zip(order, in_workers(functools.partial(_timed, s), order, workers)))
    samples = {m: results[m][0] for m in methods}
    seconds = {m: results[m][1] for m in methods}
    samples[REAL] = dict(s.real_row)
    seconds[REAL] = math.nan
    return samples, seconds


def pooled_images(per_seed: Sequence[Mapping[str, Mapping[str, torch.Tensor]]]) -> dict[str, dict[str, torch.Tensor]]:
    """Each row's images of every seed ({method: {kind: images}} per seed) in one set per kind, the real row left
    out (its images do not depend on the seed: :func:`pooled` draws more of them)."""
    return {m: {k: torch.cat([images[m][k] for images in per_seed]) for k in by_kind}
            for m, by_kind in per_seed[0].items() if m != REAL}


def pooled(s: Setting, per_seed: Sequence[tuple[Mapping[str, Mapping[str, torch.Tensor]], Mapping[str, float]]]
           ) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, float]]:
    """Each row's images of every seed in one set per kind, and its mean seconds per image: with 3 images per
    kind one image moves a kind's FID-like distance by a few percent, so a verdict measured on seeds × 3 images
    per kind says more than the mean of per-seed verdicts. FID-like's small-sample bias differs with the count,
    so every row has the same count: the real row's images do not depend on the seed, so it takes as many
    composites of its cut-outs instead (:meth:`Setting.real_of_rounds`; the reference is unchanged)."""
    if not per_seed:
        raise ValueError("no seeds to pool: give the (samples, seconds) of at least one seed")
    first, _ = per_seed[0]
    samples = pooled_images([images for images, _ in per_seed])
    if REAL in first:
        samples[REAL] = s.real_of_rounds(len(per_seed))
    seconds = {m: sum(sec[m] for _, sec in per_seed) / len(per_seed) for m in first}
    return samples, seconds


@dataclass
class Judge:
    """A network never optimised: its name, the model, where its realism features are, whether it has a head."""

    name: str
    model: WrappedModel
    layer: str = metrics.DEFAULT_FEATURE_LAYER
    pooled: bool = False
    has_head: bool = True

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return metrics.features(self.model, images, self.layer, pooled=self.pooled)

    def features_and_probabilities(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Its realism features and, if it has a head, its class probabilities, from one forward pass."""
        if not self.has_head:
            return self.features(images), None
        return metrics.features_and_probabilities(self.model, images, self.layer, pooled=self.pooled)


def table(s: Setting, samples, seconds, judges: Sequence[Judge],
          against: Mapping[str, torch.Tensor] | None = None) -> list[dict]:
    """A row per method × kind × judge (:data:`COLUMNS`): the judge's mass on the kind's set and its top-1 in
    the set, FID-like distance, KID (:func:`~stochvis.evaluation.metrics.kernel_distance`, unbiased at these few
    images) and plausibility against *all* held-out composites of the kind (real row: its shown images against all of
    them), diversity, and novelty (nearest-training distance over that of the
    held-out composites): :meth:`~stochvis.evaluation.metrics.ClassReference.realism`, as every table.
    ``against`` (kind -> real images): another yardstick than :attr:`Setting.held_out` (e.g. every held-out
    cut-out's composites: :meth:`Setting.every_held_out`, for rows that include no real image among them)."""
    p = s.protocol
    rows = []
    for judge in judges:
        train = {k: judge.features(v) for k, v in s.train.items()}
        held = {k: judge.features(v) for k, v in (s.held_out if against is None else against).items()}
        reference = metrics.ClassReference(held, judge.layer, train=train)
        for method, by_kind in samples.items():
            for kind, images in by_kind.items():
                feats, probs = judge.features_and_probabilities(images)
                indices = natural.class_indices(kind, judge.model.classes) if judge.has_head else None
                mass, top1 = metrics.class_set_scores(judge.model, images, indices, probs=probs) if indices \
                    else (None, None)
                rows.append({
                    "method": method, "family": FAMILY.get(method, "other"), "class": kind, "judge": judge.name,
                    "judge_confidence": float(mass.mean()) if indices else math.nan,
                    "judge_top1": float(top1.mean()) if indices else math.nan,
                    **reference.realism(kind, feats),
                    "size": p.size, "steps": 0 if method == REAL else p.maco_steps if method in COST else p.steps,
                    "crops": p.maco_crops if method in COST else 1,
                    "seconds_per_image": seconds.get(method, math.nan), "n": len(images), "seed": p.seed})
    return rows


def verdict(summary: Sequence[dict]) -> tuple[dict[str, bool], list[str]]:
    """Does each statistics-driven row beat Simonyan's on FID-like, plausibility and judge confidence?"""
    return tables.verdict(summary, STATISTICS_METHODS, baseline=BASELINE, real=REAL)


def goal(rows: Sequence[dict]) -> list[str]:
    """The issue's bar, per statistics-driven row (:func:`~stochvis.experiments.tables.goal_lines`): beat Simonyan,
    olah2017 and both MACO rows on FID-like and plausibility under every judge, judge confidence ≥ 0.8× the real
    composites', novelty ≥ 0.8, and FID-like below the VITAL-style row's."""
    return tables.goal_lines(rows, STATISTICS_METHODS, rivals=RIVALS, peer=VITAL, real=REAL)


def second_opinion(rows: Sequence[dict]) -> list[str]:
    """Each statistics-driven row's KID against the VITAL-style row's, per judge: the goal's last condition read by a
    distance with no small-sample bias (:func:`~stochvis.evaluation.metrics.kernel_distance`), never instead of it."""
    return tables.against_peer(rows, STATISTICS_METHODS, peer=VITAL, measure="kid")


def load_judges(device=None) -> list[Judge]:
    """Lite1 and Lite2 (pool features, heads), and VGG16's pooled conv5_3 features (realism only)."""
    from stochvis.models import load_model

    judges = [Judge(name, load_model(name, device)) for name in JUDGES]
    judges.append(Judge(FEATURE_JUDGE, load_model(FEATURE_JUDGE, device), FEATURE_LAYER, pooled=True, has_head=False))
    return judges


def save_images(samples, path: str | Path) -> Path:
    """Every row's images as uint8 safetensors, keys ``method/kind``."""
    return tables.save_images(samples, path, classes=list(next(iter(samples.values()))))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The natural-image table, without a notebook.")
    parser.add_argument("--quick", action="store_true", help="2 kinds × 2 images, 64 px, 4 steps (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="folder for the CSV and the images")
    parser.add_argument("--workers", type=int, default=2, help="processes for the rows (default 2: both cores)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS), metavar="METHOD",
                        help=f"rows to run (default all: {', '.join(METHODS)})")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], metavar="SEED",
                        help="optimisation seeds, same composites and statistics (default 0); with more than one, "
                             "or a subset of --methods, the files are 09_natural_study.* and the summary gives "
                             "mean ± std over seeds, so the table's own files are never overwritten by a study")
    parser.add_argument("--pool", action="store_true",
                        help="measure each row once on the images of every seed together (seeds × 3 per kind; "
                             "the real row as many composites of its cut-outs): a verdict with less sampling noise, "
                             "in 09_natural_pooled.*")
    args = parser.parse_args(argv)
    if args.pool and len(args.seeds) < 2:
        parser.error("--pool needs at least two --seeds to pool")
    from stochvis.models import load_model

    torch.set_num_threads(1)
    protocol = quick_protocol() if args.quick else Protocol()
    base = natural_setting(load_model(SUBJECT), protocol)
    if args.pool:
        base.real_of_rounds(len(args.seeds))  # as many real composites as pooled images, or say why not, first
    judges = load_judges()
    study = len(args.seeds) > 1 or list(args.methods) != list(METHODS)
    stem = "09_natural_pooled" if args.pool else "09_natural_study" if study else "09_natural"
    args.out.mkdir(parents=True, exist_ok=True)
    rows, per_seed = [], []
    for seed in args.seeds:
        s = base.reseeded(seed)
        samples, seconds = run(s, args.methods, workers=args.workers)
        if not study:
            save_images(samples, args.out / f"{stem}_images.safetensors")
        if args.pool:
            per_seed.append((samples, seconds))
        else:
            rows += table(s, samples, seconds, judges)
    if args.pool:
        samples, seconds = pooled(base, per_seed)
        save_images(samples, args.out / f"{stem}_images.safetensors")
        label = "+".join(map(str, args.seeds))
        rows = [{**r, "seed": label} for r in table(base, samples, seconds, judges)]
    metrics.write_csv([{c: r[c] for c in COLUMNS} for r in rows], args.out / f"{stem}.csv")
    print("\n".join(summary_lines(rows)))
    print("\n".join(goal(rows)))
    print("\n".join(second_opinion(rows)))


SUMMARY = (*tables.SEED_SUMMARY[:2], ("kid", "KID", 2), *tables.SEED_SUMMARY[2:])  # the table's columns, and KID
# per judge and method: means over kinds (and seeds, ± std)
summary_lines = functools.partial(tables.seed_summary_lines, shown=SUMMARY)


if __name__ == "__main__":
    main()
