"""The natural table's protocol and what every row shares: the composites (split by cut-out and photo), the
subject's class statistics of the training ones — channel quantile curves at every block, the density of each
image's curves with its calibrated temperature, the layout Gaussian, the magnitude spectra, the colour bases, the
shape models of the training cut-outs' outlines, the curves of those cut-outs alone — in one
:class:`TrainingStatistics` inside the :class:`Setting`, built once by :func:`natural_setting` and handed to each row
of :mod:`stochvis.experiments.natural`.

Why apart from the rows: what a row may read (training statistics only) is decided here, once; the rows and the
table that measures them live beside it and never build statistics of their own.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from stochvis.evaluation import metrics
from stochvis.methods import distribution_matching as DM
from stochvis.models import WrappedModel
from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.optvis import regularizers as R
from stochvis.optvis.decoder_param import DecoderParam, deep_decoder
from stochvis.optvis.maco import MagnitudeSpectrum, measure_spectrum
from stochvis.optvis.maco import maco as maco_param
from stochvis.stats.collection import collect
from stochvis.stats.curve_density import CurveDensity, novelty_temperature
from stochvis.stats.member_classes import MemberClasses
from stochvis.stats.quantiles import collect_quantiles, image_curves, mean_curves
from stochvis.stats.silhouettes import SilhouetteModel
from stochvis.worlds import natural

MATCH_LAYERS = ("stem", "block1", "block2", "block3", "block5")  # VITAL's five layers, shallow to deep
LAYOUT = "block5/grid2"  # the deep layout drawn from the class Gaussian: 192 channels × 2×2 cells


def every_block(subject: WrappedModel) -> list[str]:
    """The subject's stem and every ``block<i>``, shallow to deep (Lite0: stem, block0-block6): the layers of
    the every-block row, against VITAL's five. A subject without them is refused with its layers."""
    names = [n for n in subject.layer_names() if n == "stem" or re.fullmatch(r"block\d+", n)]
    if not set(MATCH_LAYERS) <= set(names):
        raise ValueError(f"{subject.name} lacks {', '.join(sorted(set(MATCH_LAYERS) - set(names)))} of the table's "
                         f"layers {', '.join(MATCH_LAYERS)}; its layers include {', '.join(subject.layer_names()[:12])}")
    return names


@dataclass
class Protocol:
    """Sizes and budgets, the same for every row but MACO's, which gets its 256 steps (``maco_steps``) with
    ``maco_crops`` crops per step resampled to ``size`` (see :func:`maco`). ``samples`` images per class and method; ``per_object`` training composites per
    cut-out for the statistics."""

    kinds: list[str] = field(default_factory=lambda: list(natural.KINDS))
    size: int = 128
    samples: int = 3
    steps: int = 128
    maco_steps: int = 256
    maco_crops: int = 1
    per_object: int = 4
    quantiles: int = 32
    prior_strength: float = 4.0
    layout_weight: float = 1.0
    # The class-set logit beside the layout: chosen before any run, so that a logit of ~10-20 weighs about as much
    # as the matching term (0 at a match, -1 at an all-zero map, × prior_strength); never tuned on held-out images.
    logit_weight: float = 0.05
    # The capped class evidence beside the layout (objectives.class_set_evidence, capped at the subject's mass on
    # the kind's training composites): 0.1 of 0.1 / 0.25 / 1, chosen on judge scores against *training* composites
    # (scripts/choose_evidence_weight.py), never the held-out ones.
    evidence_weight: float = 0.1
    # The drawn row's density of curves keeps its 16 main ways of varying (principal components) of 4 / 16 / all
    # N − 1, chosen on judge scores against *training* composites (scripts/choose_curve_components.py).
    curve_components: int = 16
    # ... and draws at each kind's calibrated temperature (stats.curve_density.novelty_temperature): as far from the
    # training composites' curves as a composite of another photo and cut-out is, from training curves alone; the
    # draws at temperature 1 were 0.76 of that distance (scripts/choose_drawn_temperature.py).
    drawn_temperature: float | str = "calibrated"
    # The silhouette row's object alone is matched to its kind's cut-outs' curves from this block on (Lite0's block3:
    # 1/16 of the image and coarser), not at the stem and the first blocks, whose fine grain it could only meet with
    # speckle: chosen on judge scores against *validation* composites (scripts/try_coarser_object_curves.py).
    object_curves_from: str = "block3"
    # ... and its whole image keeps its 6×6 patches as likely under a mixture of its kind's training composites'
    # patches as nine real patches in ten (optvis.regularizers.patch_prior), the penalty weighing as this many
    # matched layers (0: off): 2 of 0 / 2 / 8, chosen on judge scores against *validation* composites
    # (scripts/try_patch_prior.py).
    patch_prior_layers: float = 2.0
    # ... and its object is drawn by an untrained deep decoder at half the side plus a Fourier image at this gain for
    # its texture (optvis.decoder_param: shaded regions and edges, no speckle; None: a Fourier image alone, as before):
    # chosen on judge scores against *validation* composites, four seeds pooled
    # (scripts/try_deep_decoder_detail_on_four_seeds.py, after a tie on two: scripts/try_deep_decoder_with_detail.py).
    object_decoder_detail: float | None = 0.5
    # ... and its backdrop too, on the kind's composites' colour basis (None: a Fourier image, as before): chosen on
    # judge scores against *validation* composites (scripts/try_decoder_backdrop.py).
    backdrop_decoder_detail: float | None = 0.5
    seed: int = 0  # the optimisation's and the layout draws' seed
    split_seed: int = 0  # the composites': scales, positions and crops of the cut-outs on the photos
    # The rule's own split (natural.split(validation=True)): every statistic from the "fit" part of the training
    # cut-outs and photos, and the rest kept as the reference a design choice is scored against — real images that
    # are neither held out nor the statistics' source. False: the table's setting, statistics of every training one.
    validation: bool = False

    def targets(self) -> list[str]:
        return [k for k in self.kinds for _ in range(self.samples)]


def quick_protocol() -> Protocol:
    """The smoke run: 2 kinds × 2 images at 64 px, 4 steps; two composites per cut-out, so `--pool` of two seeds runs
    too (its real row takes a second composite of each cut-out)."""
    return Protocol(kinds=list(natural.KINDS[:2]), size=64, samples=2, steps=4, maco_steps=4, per_object=2, quantiles=8)


@dataclass
class TrainingStatistics:
    """The subject's statistics of the training composites and their cut-outs, per kind: all that a row may know
    of a class. Apart from :class:`Setting` so that what is measured on training images alone is one object."""

    real_mass: dict[str, float]  # kind -> the subject's mean mass on the set over the kind's training composites
    curves: dict[str, dict[str, torch.Tensor]]  # kind -> layer -> (C, Q) mean sorted activations, every block
    image_curves: dict[str, dict[str, torch.Tensor]]  # kind -> layer -> (N, C, Q): each training composite's own
    curve_densities: dict[str, CurveDensity]  # kind -> how one image's curves vary (every block, jointly)
    curve_temperatures: dict[str, float]  # kind -> the draws' spread as new as a new photo and cut-out's curves
    colour_curves: dict[str, torch.Tensor]  # kind -> (3, Q) mean sorted opponent colours of its training composites
    layout: dict  # kind -> Statistics of LAYOUT
    class_spectra: dict[str, MagnitudeSpectrum]
    world_spectrum: MagnitudeSpectrum  # of every kind's training composites: the photographs' texture energy
    class_colours: dict[str, P.ColourStatistics]  # kind -> its training composites' RGB mean and covariance root
    silhouettes: dict[str, SilhouetteModel]  # kind -> the shape model of its training cut-outs' outlines
    object_curves: dict[str, dict[str, torch.Tensor]]  # kind -> block -> (C, Q): its training cut-outs alone on grey
    cutout_colours: dict[str, P.ColourStatistics]  # kind -> its training cut-outs' own pixels' mean and covariance root
    members: dict[str, MemberClasses]  # kind -> which class of its set each training composite is, and how surely
    # kind -> a mixture of its training composites' small patches (empty when Protocol.patch_prior_layers is 0)
    patches: dict[str, R.PatchMixture]


@dataclass
class Setting:
    """What every row and measure shares: the subject, the composites, the training statistics."""

    protocol: Protocol
    subject: WrappedModel
    train: dict[str, torch.Tensor]  # kind -> training composites
    train_groups: dict[str, list[tuple[str, str]]]  # kind -> each training composite's (cut-out, photo)
    held_out: dict[str, torch.Tensor]  # kind -> held-out composites of the reference cut-outs (realism yardstick)
    # kind -> rounds of held-out composites of the real row's cut-outs (not the reference's): round r holds the r-th
    # composite of each; round 0 is the real row
    real_rounds: dict[str, list[torch.Tensor]]
    sets: dict[str, list[int]]  # kind -> the subject's ImageNet class indices of the kind
    natural_spectrum: MagnitudeSpectrum  # MACO's natural magnitude: of no class
    statistics: TrainingStatistics
    # kind -> validation composites (Protocol.validation): the rule's reference, else None
    validation: dict[str, torch.Tensor] | None = None

    def photo_cutout(self) -> Callable[..., P.CutoutParam]:
        """The cut-out parameterisation with a backdrop whose magnitude spectrum is the training composites'
        (a MACO phase-only image): a factory for :func:`sampled_layout`'s ``param``."""
        return functools.partial(P.cutout, backdrop=functools.partial(maco_param, self.statistics.world_spectrum))

    def capped_evidence(self) -> O.Objective:
        """Each image's kind's set log-probability, capped at the subject's mass on the kind's real training
        composites (:func:`~stochvis.optvis.objectives.class_set_evidence`): the evidence the rows weigh."""
        return O.class_set_evidence(self.per_image(self.sets), self.per_image(self.statistics.real_mass))

    def drawn_member_evidence(self) -> O.Objective:
        """:meth:`capped_evidence` with each image's set narrowed to one member drawn from its kind's training
        composites (:class:`~stochvis.stats.member_classes.MemberClasses`: in their proportions, capped at the mass
        they give that member): one thing per image, as in a photograph, not the kind's easiest member in every
        image. Seeded by the optimisation seed and the kind's position, as the drawn outlines are."""
        p = self.protocol
        drawn = [self.statistics.members[k].draw(p.samples, seed=1000 * p.seed + i) for i, k in enumerate(p.kinds)]
        return O.class_set_evidence([[c] for classes, _ in drawn for c in classes],
                                    [m for _, ceilings in drawn for m in ceilings])

    def one_layer_weight(self) -> float:
        """The weight of one matched layer of :func:`every_block` (``Protocol.prior_strength`` shared among them):
        the unit a pixel prior is weighed in ("as many as N matched layers"), so that its pull compares with the
        matching's whatever the subject's depth."""
        return self.protocol.prior_strength / len(every_block(self.subject))

    def patch_prior(self) -> list[R.Penalty]:
        """The silhouette row's prior on its whole images' small patches: each image's kind's mixture
        (:attr:`TrainingStatistics.patches`), weighing as ``Protocol.patch_prior_layers`` matched layers of
        :func:`every_block`; none when that is 0."""
        p = self.protocol
        if not p.patch_prior_layers:
            return []
        return [R.PatchOutliers(p.patch_prior_layers * self.one_layer_weight(), self.per_image(self.statistics.patches))]

    def class_colour_fft(self) -> Callable[..., P.FFTParam]:
        """The Fourier parameterisation with each image's kind's colour basis (:attr:`class_colours`, in the order
        of :meth:`Protocol.targets`) instead of ImageNet's: chroma as mobile as the kind's photographs have it.
        A factory for a row's ``param``."""
        colours = self.per_image(self.statistics.class_colours)
        return functools.partial(P.fft, colour=P.ColourStatistics.stack(colours))

    def cutout_colour_fft(self) -> Callable[..., P.FFTParam]:
        """The Fourier parameterisation with each image's kind's *cut-outs'* colour basis
        (:attr:`TrainingStatistics.cutout_colours`: the objects' own pixels, not the photographs' around them),
        in the order of :meth:`Protocol.targets`: a factory for an object's ``param``."""
        colours = self.per_image(self.statistics.cutout_colours)
        return functools.partial(P.fft, colour=P.ColourStatistics.stack(colours))

    def cutout_colour_decoder(self, detail: float | None = None) -> Callable[..., DecoderParam]:
        """The silhouette row's object: a deep decoder of 64 channels at half the side, plus a Fourier image at
        ``detail`` (default :attr:`Protocol.object_decoder_detail`) for the texture, on each image's kind's cut-outs'
        colour basis as :meth:`cutout_colour_fft`: a factory for an object's ``param``."""
        return self._decoder(self.statistics.cutout_colours, detail, "object_decoder_detail", "cutout_colour_fft")

    def class_colour_decoder(self, detail: float | None = None) -> Callable[..., DecoderParam]:
        """The silhouette row's backdrop, drawn as its object is (:meth:`cutout_colour_decoder`: a deep decoder plus a
        Fourier image at ``detail``, default :attr:`Protocol.backdrop_decoder_detail`), on each image's kind's
        composites' colour basis (:meth:`class_colour_fft`'s): a factory for a backdrop's ``param``."""
        return self._decoder(self.statistics.class_colours, detail, "backdrop_decoder_detail", "class_colour_fft")

    def _decoder(self, colours: Mapping[str, P.ColourStatistics], detail: float | None, field: str,
                 fourier: str) -> Callable[..., DecoderParam]:
        """64 channels at half the side, each image on its kind's basis of ``colours`` (kind → basis), at ``detail``
        or else the protocol's ``field`` (whose None means the Fourier image ``fourier`` makes instead)."""
        detail = getattr(self.protocol, field) if detail is None else detail
        if detail is None:
            raise ValueError(f"{field}=None draws this part by a Fourier image ({fourier}); give a detail gain in "
                             "[0, 1] for the decoder")
        return functools.partial(deep_decoder, colour=P.ColourStatistics.stack(self.per_image(colours)), width=64,
                                 resolution=self.protocol.size // 2, detail=detail)

    def with_curves(self, layers: Sequence[str]) -> Setting:
        """The same setting with the kinds' quantile curves at ``layers`` too (of the training composites, as
        every curve): for matching at more layers than those :func:`natural_setting` collects."""
        missing = [layer for layer in layers if layer not in self.statistics.curves[self.protocol.kinds[0]]]
        if not missing:
            return self
        more = _kind_curves(self.subject, self.train, missing, self.protocol.quantiles)
        curves = {k: {**self.statistics.curves[k], **more[k]} for k in self.protocol.kinds}
        return dataclasses.replace(self, statistics=dataclasses.replace(self.statistics, curves=curves))

    def curve_targets(self, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Per-image matching targets ({layer: (N, C, Q)}) from the kinds' curves at ``layers``, in the order of
        :meth:`Protocol.targets`: what every matching row optimises towards."""
        curves = self.statistics.curves
        return DM.class_targets([{layer: curves[k][layer] for layer in layers} for k in self.protocol.kinds],
                                per_class=self.protocol.samples)

    def object_curve_targets(self) -> dict[str, torch.Tensor]:
        """Per-image targets ({layer: (N, C, Q)}, the order of :meth:`Protocol.targets`) for an object alone on grey:
        the kinds' cut-outs' curves (:attr:`TrainingStatistics.object_curves`) at every block from
        ``Protocol.object_curves_from`` on."""
        blocks = every_block(self.subject)
        start = self.protocol.object_curves_from
        if start not in blocks:
            raise ValueError(f"object_curves_from={start!r}: one of the subject's blocks, {', '.join(blocks)}")
        layers = blocks[blocks.index(start):]
        objects = self.statistics.object_curves
        return DM.class_targets([{layer: objects[k][layer] for layer in layers} for k in self.protocol.kinds],
                                per_class=self.protocol.samples)

    def drawn_targets(self, layers: Sequence[str], temperature: float | str = 1.0) -> dict[str, torch.Tensor]:
        """Per-image targets ({layer: (N, C, Q)}, the order of :meth:`Protocol.targets`) *drawn* from each kind's
        density of curves, one whole set of curves per image (jointly over ``layers``), instead of every image
        of a kind sharing the kind's mean curves: a new target, so a new image, per draw. Seeded by the
        optimisation seed and the kind's position. ``temperature="calibrated"``: each kind's
        :attr:`curve_temperatures`."""
        p = self.protocol
        if temperature == "calibrated":
            temperature = [self.statistics.curve_temperatures[k] for k in p.kinds]
        elif isinstance(temperature, str):
            raise ValueError(f"temperature {temperature!r}: give a number ≥ 0 or 'calibrated' (each kind's own)")
        return DM.drawn_targets([self.statistics.curve_densities[k] for k in p.kinds], p.samples, seed=p.seed,
                                temperature=temperature, layers=layers)

    def colour_penalty(self, weight: float) -> R.ColourQuantiles:
        """Each image's kind's opponent-colour curves as a penalty of ``weight`` (:class:`R.ColourQuantiles`),
        in the order of :meth:`Protocol.targets`: the pixels' own statistics beside the layers'."""
        return R.ColourQuantiles(weight, torch.stack(self.per_image(self.statistics.colour_curves)))

    def per_image(self, by_kind: Mapping[str, object]) -> list:
        return [by_kind[k] for k in self.protocol.targets()]

    def common(self) -> dict:
        p = self.protocol
        return dict(size=p.size, steps=p.steps, batch=len(p.targets()), seed=p.seed, progress=False)

    def split(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return metrics.by_target(images, self.protocol.targets(), self.protocol.kinds)

    def real_of_rounds(self, rounds: int) -> dict[str, torch.Tensor]:
        """The real row's cut-outs with ``rounds`` composites each ({kind: images}, round by round; 1 round is the
        real row): the real images of a table pooled over ``rounds`` seeds, as many as each synthetic row's."""
        have = min(len(r) for r in self.real_rounds.values())
        if not 1 <= rounds <= have:
            raise ValueError(f"{rounds} rounds of real composites: the real row's cut-outs have {have} held-out "
                             f"composites each (per_object={self.protocol.per_object}); pool 1 to {have} seeds")
        return {k: torch.cat(r[:rounds]) for k, r in self.real_rounds.items()}

    @property
    def real_row(self) -> dict[str, torch.Tensor]:
        """kind -> one held-out composite of each of the real row's cut-outs: the table's real row (round 0)."""
        return {k: r[0] for k, r in self.real_rounds.items()}

    def every_held_out(self) -> dict[str, torch.Tensor]:
        """kind -> the composites of *every* held-out cut-out: the reference's and the real row's (all their rounds).
        The table's reference leaves the real row's cut-outs out so that the real row is not measured against itself,
        which leaves a kind with few cut-outs a reference of one object (bovines, vehicles: four held out, three of
        them the real row's); a yardstick for rows with no real image among them can be the whole held-out side."""
        return {k: torch.cat([self.held_out[k], *self.real_rounds[k]]) for k in self.protocol.kinds}

    def reseeded(self, seed: int) -> Setting:
        """The same composites and statistics, another optimisation seed: what a seed study varies."""
        return dataclasses.replace(self, protocol=dataclasses.replace(self.protocol, seed=seed))


def _kind_curves(subject: WrappedModel, train: Mapping[str, torch.Tensor], layers: Sequence[str], quantiles: int
                 ) -> dict[str, dict[str, torch.Tensor]]:
    """kind -> layer -> (C, Q): each channel's mean sorted activations over the kind's training composites."""
    return {k: {layer: q.curves for layer, q in collect_quantiles(subject, images, list(layers),
                                                                   quantiles=quantiles).items()}
            for k, images in train.items()}


def natural_setting(subject: WrappedModel, protocol: Protocol) -> Setting:
    """The composites (split by cut-out and photo), and the subject's class statistics of the training
    ones: channel quantile curves at :data:`MATCH_LAYERS` and every block (:func:`every_block`), the layout
    Gaussian, a class magnitude spectrum. With ``protocol.validation`` the statistics are of the training side's fit
    part only and :attr:`Setting.validation` holds the rest; the held-out composites are the same."""
    p = protocol
    if p.size < 32:
        raise ValueError(f"size {p.size}: EfficientNet-Lite0 needs at least 32 px (its strides reduce by 32)")
    train_set, held_set = natural.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed)
    held_images, held_labels = held_set.tensors((p.size, p.size))
    validation = None
    if p.validation:  # the same split again inside the training side: statistics of its fit part only
        train_set, validation_set = natural.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed,
                                                  validation=True)
        validation_images, validation_labels = validation_set.tensors((p.size, p.size))
        validation = {k: validation_images[validation_labels == i] for i, k in enumerate(p.kinds)}
    train_images, train_labels = train_set.tensors((p.size, p.size))
    train = {k: train_images[train_labels == i] for i, k in enumerate(p.kinds)}
    # The real row: one composite of each of the first `samples` held-out cut-outs of a kind; the reference:
    # the composites of the kind's other held-out cut-outs (a real image is not measured against itself).
    cutouts = [natural.source_parts(s)[0] for s in held_set.sources]
    # Round r of the real row's cut-outs: the r-th composite of each (round 0 is the real row), so a table pooled
    # over seeds has as many real images as synthetic ones without touching the reference.
    held, real_rounds = {}, {}
    for i, k in enumerate(p.kinds):
        rows = [j for j, label in enumerate(held_labels.tolist()) if label == i]
        shown = list(dict.fromkeys(cutouts[j] for j in rows))[:p.samples]
        rest = [j for j in rows if cutouts[j] not in shown]
        if len(shown) < 2 or len(rest) < 2:
            raise ValueError(f"kind {k!r} has {len(set(cutouts[j] for j in rows))} held-out cut-outs: it needs "
                             f"{p.samples} for the real row and more for the reference; choose kinds with more "
                             f"cut-outs ({natural.kind_counts()}) or fewer samples")
        of_cutout = [[j for j in rows if cutouts[j] == c] for c in shown]
        real_rounds[k] = [held_images[[js[r] for js in of_cutout]] for r in range(min(map(len, of_cutout)))]
        held[k] = held_images[rest]
    sets = {k: natural.class_indices(k, subject.classes) for k in p.kinds}
    probabilities = {k: metrics.probabilities(subject, train[k]) for k in p.kinds}
    real_mass = {k: float(metrics.set_scores(probabilities[k], sets[k])[0].mean()) for k in p.kinds}
    members = {k: MemberClasses.fit(probabilities[k], sets[k]) for k in p.kinds}
    # Each training composite's curves at the stem and every block (VITAL's five layers among them), and their
    # mean, the kind's curves, from the same forward pass
    per_image = {k: image_curves(subject, images, every_block(subject), quantiles=p.quantiles)
                 for k, images in train.items()}
    curves = {k: mean_curves(c) for k, c in per_image.items()}
    densities = {k: CurveDensity(min(p.curve_components, len(train[k]) - 1)).fit(c, model=subject)
                 for k, c in per_image.items()}
    # Each training composite's (cut-out, photo): a new real image shares neither, so the draws' calibrated
    # spread is measured against composites of other photos and cut-outs.
    groups = [natural.source_parts(source) for source in train_set.sources]
    kind_groups = {k: [g for g, label in zip(groups, train_labels.tolist()) if label == i]
                   for i, k in enumerate(p.kinds)}
    temperatures = {k: novelty_temperature(densities[k], per_image[k], kind_groups[k]) for k in p.kinds}
    layer, _, _ = LAYOUT.partition("/")
    layout = {k: collect(subject, train[k], [layer], grid={layer: 2}, pooled=False, class_name=k, progress=False)
              for k in p.kinds}
    from stochvis.worlds.spectra import natural_spectrum

    spectra = {k: measure_spectrum(train[k], p.size, source=f"natural world {k} training composites")
               for k in p.kinds}
    world = measure_spectrum(train_images, p.size, source="natural world training composites, every kind")
    colours = {k: R.colour_curves(images, p.quantiles) for k, images in train.items()}
    bases = {k: P.measure_colour(images) for k, images in train.items()}
    # The same draws' cut-outs alone on mid-grey, where each composite has it: the curves of an object by itself
    objects, _ = natural.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed, part="object",
                               validation=p.validation)
    object_images, object_labels = objects.tensors((p.size, p.size))
    object_curves = _kind_curves(subject, {k: object_images[object_labels == i] for i, k in enumerate(p.kinds)},
                                 every_block(subject), p.quantiles)
    on_object = natural.on_object(object_images)  # the cut-outs' own pixels, not the grey canvas
    cutout_colours = {k: P.measure_colour(object_images[object_labels == i], on_object[object_labels == i])
                      for i, k in enumerate(p.kinds)}
    shapes = {k: SilhouetteModel.fit(natural.masks(list(dict.fromkeys(c for c, _ in kind_groups[k]))),
                                     source=f"natural world {k} training cut-outs") for k in p.kinds}
    patches = {k: R.fit_patch_mixture(images) for k, images in train.items()} if p.patch_prior_layers else {}
    statistics = TrainingStatistics(real_mass, curves, per_image, densities, temperatures, colours, layout, spectra,
                                    world, bases, shapes, object_curves, cutout_colours, members, patches)
    return Setting(p, subject, train, kind_groups, held, real_rounds, sets, natural_spectrum(p.size), statistics,
                   validation)
