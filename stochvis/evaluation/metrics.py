"""Comparison metrics for class visualisations: does a method make images the subject believes,
that other networks believe too, that look like real images of the class, and that differ from
each other?

Why these: a class image can fool the network it was optimised on (high *target confidence*) and
still be noise to anything else; a held-out *judge* (another architecture, never used for
optimisation) measures *transferability*; realism is measured against real images of the class
in the judge's features (*FID-like* distance between fitted Gaussians, and *plausibility*, the
cosine similarity to the real class centroid); *diversity* is the mean pairwise distance between
a method's samples; the *high-frequency ratio* catches the adversarial-texture look; seconds per
image are measured by the caller.

``compare`` turns {method: {class: images}} into one row per (method, class); ``summarize`` gives
mean ± std over classes per method; ``write_csv`` writes either.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from stochvis.evaluation.distances import (
    fit_gaussian,
    frechet_distance_gaussians,
    frechet_distance_in_span,
    kernel_distance,
    psd_sqrt,
)
from stochvis.evaluation.distances import frechet_distance as frechet_distance  # re-exported: the metrics' namespace
from stochvis.inputs import check_images
from stochvis.layers import capture
from stochvis.models import WrappedModel

DEFAULT_FEATURE_LAYER = "pool"  # the judges' penultimate layer (fashion_judge, efficientnet_lite*)
# Which way each measure is better: every table's "best" and every verdict read this.
BETTER = {"target_confidence": max, "judge_confidence": max, "judge_top1": max, "agreement": max, "fid": min,
          "kid": min, "plausibility": max, "diversity": max, "hf_ratio": min, "seconds_per_image": min}


def _check_images(model: WrappedModel, images: torch.Tensor) -> torch.Tensor:
    """The one input gate, kept on the CPU: measures batch the images to the model themselves."""
    return check_images(model, images).cpu()


def _flat(activation: torch.Tensor) -> torch.Tensor:
    return activation.flatten(1)


def _pooled(activation: torch.Tensor) -> torch.Tensor:
    return activation.mean((-2, -1))  # a conv map averaged over its positions


@torch.no_grad()
def _outputs(model: WrappedModel, images: torch.Tensor,
             reads: Sequence[tuple[str, Callable[[torch.Tensor], torch.Tensor]]], batch_size: int) -> list[torch.Tensor]:
    """Each read's activations ((layer, reduce) pairs, e.g. ``("pool", _flat)``), reduced per image, for all
    ``images`` in batches, from one forward pass per batch: (N, D) per read, in ``reads``' order."""
    images = _check_images(model, images)
    parts: list[list[torch.Tensor]] = [[] for _ in reads]
    for start in range(0, len(images), batch_size):
        acts = capture(model, images[start:start + batch_size].to(model.device),
                       list(dict.fromkeys(layer for layer, _ in reads)))
        for part, (layer, reduce) in zip(parts, reads):
            part.append(reduce(acts[layer].float()).cpu())
    return [torch.cat(part) if part else torch.empty(0) for part in parts]


def probabilities(model: WrappedModel, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Softmax over the model's classes, (N, classes)."""
    if model.classes is None:
        model.check_class(0)  # raises: no classifier head
    return _outputs(model, images, [("logits", _flat)], batch_size)[0].softmax(1)


def target_confidence(subject: WrappedModel, images: torch.Tensor,
                      target: int | str | Sequence[int | str]) -> torch.Tensor:
    """The subject's softmax probability of ``target`` for each image, (N,): one class for all images, or
    one class per image."""
    names = [target] if isinstance(target, (int, str)) else list(target)
    index = [subject.class_index(c) for c in names]
    probs = probabilities(subject, images)
    if len(index) not in (1, len(probs)):
        raise ValueError(f"{len(index)} targets for {len(probs)} images: give one class, or one per image")
    index = index * len(probs) if len(index) == 1 else index
    return probs[torch.arange(len(probs)), torch.tensor(index, dtype=torch.long)]


def features_and_probabilities(model: WrappedModel, images: torch.Tensor, layer: str = DEFAULT_FEATURE_LAYER,
                               batch_size: int = 256, *, pooled: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(:func:`features`, :func:`probabilities`) of the same images from one forward pass: a judge that scores a
    set's realism and its classes pays for one forward, not two (the natural table's judges spent a fifth of its
    scoring time on the second)."""
    if model.classes is None:
        model.check_class(0)  # raises: no classifier head
    feats, logits = _outputs(model, images, [(layer, _pooled if pooled else _flat), ("logits", _flat)], batch_size)
    return feats, logits.softmax(1)


def class_set_mass(judge: WrappedModel, images: torch.Tensor, indices: Sequence[int]) -> torch.Tensor:
    """The judge's probability mass on a *set* of its classes for each image, (N,): the confidence that an
    image shows "a bird" when the judge knows 59 bird species. Where ImageNet has many classes for one kind
    of object, the mass on the set is the honest confidence; one class of the set would be noise."""
    return class_set_scores(judge, images, indices)[0]


def top1_in_set(judge: WrappedModel, images: torch.Tensor, indices: Sequence[int]) -> torch.Tensor:
    """Whether each image's most likely class is in the set, (N,) float 0/1."""
    return class_set_scores(judge, images, indices)[1]


def class_set_scores(judge: WrappedModel, images: torch.Tensor, indices: Sequence[int], *,
                     probs: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(:func:`class_set_mass`, :func:`top1_in_set`) from one forward pass of the judge (none when its
    ``probs`` of these images are given, e.g. by :func:`features_and_probabilities`)."""
    return set_scores(probabilities(judge, images) if probs is None else probs, _class_set(judge, indices))


def set_scores(probs: torch.Tensor, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row of softmax ``probs`` (N, classes): the mass on ``indices`` and 1 where the top-1 class is one of
    them. **The** class-set rule, for callers that already hold the probabilities of many sets' images."""
    indices = torch.as_tensor(list(indices), dtype=torch.long)
    return probs[:, indices].sum(1), torch.isin(probs.argmax(1), indices).float()


def _class_set(judge: WrappedModel, indices: Sequence[int]) -> list[int]:
    indices = [judge.check_class(int(i)) for i in indices]
    if not indices:
        raise ValueError("an empty class set: give at least one class index of the judge")
    return indices


def nearest_distance(feats: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Each vector's Euclidean distance to its nearest vector of ``bank``, (N,)."""
    if len(bank) == 0:
        raise ValueError("nearest_distance needs a non-empty bank of vectors")
    return torch.cdist(feats.double(), bank.double()).min(1).values.float()


def novelty(feats: torch.Tensor, train: torch.Tensor, held_out: torch.Tensor) -> float:
    """How far a method's images are from the training images they were learnt from, as a multiple of how
    far new real images are: mean nearest-training distance of ``feats`` over that of ``held_out`` (all in
    one judge's features). About 1 for images as new as real ones; far below 1 means copies of training
    images; above 1, images unlike any (as noise is)."""
    reference = float(nearest_distance(held_out, train).mean())
    if reference <= 0:
        raise ValueError("the held-out images coincide with training images: novelty has no scale")
    return float(nearest_distance(feats, train).mean()) / reference


def transferability(judge: WrappedModel, images: torch.Tensor, target: int | str,
                    subject: WrappedModel | None = None) -> dict[str, torch.Tensor]:
    """Per image: ``judge_confidence`` (the judge's softmax for ``target``), ``judge_top1`` (1 where
    the judge's top class is ``target``) and, given the subject, ``agreement`` (1 where subject and
    judge pick the same top class)."""
    index = judge.class_index(target)
    judged = probabilities(judge, images)
    result = {"judge_confidence": judged[:, index], "judge_top1": (judged.argmax(1) == index).float()}
    if subject is not None:
        result["agreement"] = (probabilities(subject, images).argmax(1) == judged.argmax(1)).float()
    return result


def features(model: WrappedModel, images: torch.Tensor, layer: str = DEFAULT_FEATURE_LAYER,
             batch_size: int = 256, *, pooled: bool = False) -> torch.Tensor:
    """Flattened activations of ``layer`` (default: the judge's penultimate, ``pool``), (N, D); ``pooled``:
    a conv map averaged over its positions first, (N, C) — a network with no classifier head (VGG16's
    convolutions here) judges realism in these."""
    return _outputs(model, images, [(layer, _pooled if pooled else _flat)], batch_size)[0]


# -- realism -------------------------------------------------------------------------------

def plausibility(feats: torch.Tensor, centroid: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of each feature vector to the real class centroid, (N,)."""
    return torch.nn.functional.cosine_similarity(feats.float(), centroid.float().view(1, -1), dim=1)


def diversity(feats: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance between samples (NaN for fewer than two)."""
    if len(feats) < 2:
        return math.nan
    return float(torch.pdist(feats.double().flatten(1)).mean())


def high_frequency_ratio(images: torch.Tensor, radius: float = 0.25) -> torch.Tensor:
    """Fraction of each image's spectral power at spatial frequencies above ``radius`` (cycles per
    pixel; Nyquist is 0.5), (N,). The mean of each channel is removed first, so the DC term (mean
    brightness) does not dilute the ratio; a constant image scores 0."""
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got {tuple(images.shape)}")
    x = images.float()
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).sum(1)  # (N, H, W), summed over channels
    fy = torch.fft.fftfreq(x.shape[-2], device=x.device).view(-1, 1)
    fx = torch.fft.fftfreq(x.shape[-1], device=x.device).view(1, -1)
    high = (fy.pow(2) + fx.pow(2)).sqrt() > radius
    total = power.sum(dim=(-2, -1))
    return torch.where(total > 0, (power * high).sum(dim=(-2, -1)) / total.clamp_min(1e-30), torch.zeros_like(total))


def border_brightness(images: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Mean value of each image's frame ``width`` px wide, (N,): the background's brightness where
    objects sit centred (Fashion-MNIST: ≈0 for normal images, ≈1 for colour-inverted ones)."""
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got {tuple(images.shape)}")
    if not 0 < width < min(images.shape[-2:]) / 2:
        raise ValueError(f"width must be between 1 and half the image size, got {width}")
    frame = torch.ones(images.shape[-2:], dtype=torch.bool, device=images.device)
    frame[width:-width, width:-width] = False
    return images.float()[..., frame].mean(dim=(1, 2))


def template_correlation(images: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of each image with its template (e.g. the mean real image of its class),
    (N,). The sign tells a look from its negative: a colour-inverted image correlates as strongly,
    but negatively, with the class mean. ``templates``: (N, C, H, W) or one (C, H, W) for all."""
    if images.ndim != 4:
        raise ValueError(f"images must be (N, C, H, W), got {tuple(images.shape)}")
    templates = templates.expand_as(images) if templates.ndim == 3 else templates
    if templates.shape != images.shape:
        raise ValueError(f"templates {tuple(templates.shape)} do not match images {tuple(images.shape)}")
    a, b = images.float().flatten(1), templates.float().flatten(1).to(images.device)
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)


# -- per class -----------------------------------------------------------------------------

@dataclass
class ClassReference:
    """Judge features of real images, per class: the yardstick for realism and diversity."""

    features: dict[int, torch.Tensor]
    layer: str
    shrinkage: float | str | None = "auto"
    # Judge features of the *training* images the statistics were learnt from, per class: the bank novelty
    # measures copies against (None: no novelty column).
    train: dict[int, torch.Tensor] | None = field(default=None, repr=False)
    _gaussians: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _roots: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _diversities: dict[tuple[int, int], float] = field(default_factory=dict, repr=False)

    def of(self, target: int) -> torch.Tensor:
        if target not in self.features:
            raise KeyError(f"no real images of class {target}; reference has classes {sorted(self.features)}")
        return self.features[target]

    def centroid(self, target: int) -> torch.Tensor:
        return self.of(target).mean(0)

    def gaussian(self, target: int) -> tuple[np.ndarray, np.ndarray]:
        if target not in self._gaussians:
            self._gaussians[target] = fit_gaussian(self.of(target), self.shrinkage)
        return self._gaussians[target]

    def frechet(self, target: int, feats: torch.Tensor) -> float:
        """FID-like distance of ``feats`` (N ≥ 2, fitted with this reference's shrinkage) to this class's real
        Gaussian, whose square root is taken once per class however many sets are measured against it."""
        mean, cov = self.gaussian(target)
        if target not in self._roots:
            self._roots[target] = psd_sqrt(cov)
        return frechet_distance_gaussians(*fit_gaussian(feats, self.shrinkage), mean, cov, root2=self._roots[target])

    def kid(self, target: int, feats: torch.Tensor) -> float:
        """KID (:func:`kernel_distance`) of ``feats`` against this class's real images."""
        return kernel_distance(feats, self.of(target))

    def frechet_in_span(self, target: int, feats: torch.Tensor) -> float:
        """:meth:`frechet`, the same distance to rounding, computed in the span of the two sets' centred features
        (:func:`~stochvis.evaluation.distances.frechet_distance_in_span`): milliseconds at a judge's 1280
        dimensions where :meth:`frechet` takes a third of a second, for the thousands of distances a bootstrap
        measures (:mod:`~stochvis.evaluation.uncertainty`)."""
        real, own = self.of(target).double(), torch.as_tensor(feats).detach().cpu().double()
        span = torch.cat([own - own.mean(0), real - real.mean(0)]).T.numpy()
        return frechet_distance_in_span(*fit_gaussian(own, self.shrinkage), *self.gaussian(target), span)

    def novelty(self, target: int, feats: torch.Tensor) -> float:
        """:func:`novelty` of ``feats`` against this class's training bank, the real images as the scale."""
        if self.train is None or target not in self.train:
            raise KeyError(f"no training images of class {target} in the reference: build it with "
                           "class_reference(..., train=(images, labels))")
        return novelty(feats, self.train[target], self.of(target))

    def diversity(self, target: int, limit: int = 500) -> float:
        """The real spread of a class (kept: every method's row of that class reports it)."""
        if (target, limit) not in self._diversities:
            self._diversities[target, limit] = diversity(self.of(target)[:limit])
        return self._diversities[target, limit]

    def realism(self, target: int, feats: torch.Tensor) -> dict[str, float]:
        """**The** realism columns of a set of images of one class, in this judge's features: FID-like and KID
        against the class's real images (NaN for fewer than two images), mean plausibility, diversity beside the
        real diversity, and novelty (NaN without a training bank). Every table reads its realism from here."""
        several = len(feats) > 1
        return {"fid": self.frechet(target, feats) if several else math.nan,
                "kid": self.kid(target, feats) if several else math.nan,
                "plausibility": float(plausibility(feats, self.centroid(target)).mean()),
                "diversity": diversity(feats), "real_diversity": self.diversity(target),
                "novelty": self.novelty(target, feats) if self.train is not None else math.nan}


def class_reference(judge: WrappedModel, images: torch.Tensor, labels: torch.Tensor,
                    layer: str = DEFAULT_FEATURE_LAYER, shrinkage: float | str | None = "auto",
                    train: tuple[torch.Tensor, torch.Tensor] | None = None) -> ClassReference:
    """Judge features of real (e.g. test-set) images, grouped by label; ``train`` (images, labels): the
    training images the methods learnt from, for the novelty column."""
    def grouped(images, labels):
        feats, labels = features(judge, images, layer), torch.as_tensor(labels).cpu()
        return {int(c): feats[labels == c] for c in labels.unique()}

    return ClassReference(grouped(images, labels), layer, shrinkage, train=grouped(*train) if train else None)


def evaluate_class(
    images: torch.Tensor,
    target: int | str,
    *,
    subject: WrappedModel,
    judge: WrappedModel,
    reference: ClassReference | None = None,
    method: str = "",
    seconds_per_image: float = math.nan,
    layer: str | None = None,
    radius: float = 0.25,
) -> dict:
    """One row: every metric for one method's images of one class (averages over the images).

    Without a ``reference`` (no real images, e.g. the ImageNet world) the realism columns are NaN. KID
    (:func:`kernel_distance`) beside the FID-like distance: the same comparison with no small-sample bias.
    ``layer`` is the judge's feature layer (default: the reference's, else ``pool``).
    """
    index = subject.class_index(target)
    layer = layer or (reference.layer if reference is not None else DEFAULT_FEATURE_LAYER)
    transfer = transferability(judge, images, index, subject)
    feats = features(judge, images, layer)
    row = {
        "method": method,
        "class": index,
        "class_name": subject.classes[index],
        "n": len(images),
        "target_confidence": float(target_confidence(subject, images, index).mean()),
        **{key: float(value.mean()) for key, value in transfer.items()},
        "fid": math.nan,
        "kid": math.nan,
        "plausibility": math.nan,
        "diversity": diversity(feats),
        "real_diversity": math.nan,
        "novelty": math.nan,
        "hf_ratio": float(high_frequency_ratio(images, radius).mean()),
        "seconds_per_image": float(seconds_per_image),
    }
    if reference is not None:
        row.update(reference.realism(index, feats))
    return row


METRICS = ("target_confidence", "judge_confidence", "judge_top1", "agreement", "fid", "kid", "plausibility",
           "diversity", "real_diversity", "novelty", "hf_ratio", "seconds_per_image")


def by_target(images: torch.Tensor, targets: Sequence, classes: Sequence | None = None) -> dict:
    """{class: its images} from one batch made for ``targets`` (one target per image), the shape
    :func:`compare` takes; ``classes`` fixes the keys and their order (default: the targets' order)."""
    wanted = dict.fromkeys(targets) if classes is None else classes
    return {c: images[[i for i, t in enumerate(targets) if t == c]] for c in wanted}


def compare(
    samples: Mapping[str, Mapping[int | str, torch.Tensor]],
    *,
    subject: WrappedModel,
    judge: WrappedModel,
    reference: ClassReference | None = None,
    seconds_per_image: Mapping[str, float | Mapping[int | str, float]] | None = None,
    layer: str | None = None,
) -> list[dict]:
    """Rows for every (method, class): ``samples[method][class]`` are that method's images.

    ``seconds_per_image[method]`` is a number or a {class: number} mapping (measured by the caller).
    """
    seconds_per_image = seconds_per_image or {}
    rows = []
    for method, by_class in samples.items():
        timing = seconds_per_image.get(method, math.nan)
        for target, images in by_class.items():
            seconds = timing.get(target, math.nan) if isinstance(timing, Mapping) else timing
            rows.append(evaluate_class(images, target, subject=subject, judge=judge, reference=reference,
                                       method=method, seconds_per_image=seconds, layer=layer))
    return rows


def summarize(rows: Sequence[dict], metrics: Iterable[str] = METRICS, *, group: str = "method",
              ddof: int = 1) -> list[dict]:
    """Per ``group`` (method): ``{metric}_mean`` and ``{metric}_std`` over its rows (classes), NaNs ignored;
    ``ddof=1`` the sample std, 0 the population std. **The** aggregation of a comparison table: the
    notebooks' summaries and the report page's table (:func:`stochvis.report_page.csv_table`) both use it."""
    metrics = list(metrics)
    summary = []
    for name in dict.fromkeys(row[group] for row in rows):
        mine = [row for row in rows if row[group] == name]
        entry: dict = {group: name, "classes": len(mine)}
        for metric in metrics:
            values = np.array([row.get(metric, math.nan) for row in mine], dtype=np.float64)
            values = values[~np.isnan(values)]
            entry[f"{metric}_mean"] = float(values.mean()) if len(values) else math.nan
            entry[f"{metric}_std"] = (float(values.std(ddof=ddof)) if len(values) > ddof
                                      else (0.0 if len(values) else math.nan))
        summary.append(entry)
    return summary


def format_summary(summary: Sequence[dict], metrics: Iterable[str] = METRICS, digits: int = 3) -> list[dict]:
    """The summary with "mean ± std" strings, for printing or a figure table."""
    out = []
    for entry in summary:
        row = {"method": entry["method"]}
        for metric in metrics:
            mean, std = entry.get(f"{metric}_mean", math.nan), entry.get(f"{metric}_std", math.nan)
            row[metric] = "n/a" if math.isnan(mean) else f"{mean:.{digits}g} ± {std:.{digits - 1}g}"
        out.append(row)
    return out


def write_csv(rows: Sequence[dict], path: str | Path) -> Path:
    """Write rows (from ``compare``, ``summarize`` or ``format_summary``) as CSV, atomically."""
    from stochvis.assets import atomic_write_bytes

    if not rows:
        warnings.warn(f"no rows to write to {path}", stacklevel=2)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path
