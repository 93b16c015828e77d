"""The ImageNet-world transfer table: class visualisations of one EfficientNet judged by its siblings.

Why in the package and not in notebook 08: like the Fashion table (:mod:`stochvis.experiments.fashion`),
it must be rerunnable without Jupyter (``python -m stochvis.experiments.imagenet_transfer [--quick]``) and
testable on tiny models; the notebook only calls :func:`run`, :func:`table` and draws.

The protocol: no real ImageNet images of these classes exist offline, so only the measures that need none.
EfficientNet-Lite0 is the *subject* whose class logit every method maximises; Lite1 and Lite2 (same family,
other widths and resolutions, never optimised) are the *judges*. Rows: ``simonyan2013``, ``garon2017``,
``olah2017``; MACO (``fel2023``) under the natural magnitude spectrum and under a *class-measured* one where
an offline image set of that kind of object exists (:func:`stochvis.worlds.spectra.class_source`); feature
accentuation (``hamblin2024``) seeded from photos of *other* classes. Same size and steps for every row.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from stochvis.evaluation import metrics
from stochvis.evaluation.workers import in_workers
from stochvis.models import WrappedModel
from stochvis.optvis import objectives as O
from stochvis.optvis import presets
from stochvis.optvis.maco import MagnitudeSpectrum

SUBJECT = "efficientnet_lite0"
JUDGES = ("efficientnet_lite1", "efficientnet_lite2")
# Seven classes with an offline image set of their kind (a class-measured magnitude), three without.
CLASSES = ("goldfinch", "robin", "Granny Smith", "strawberry", "daisy", "ladybug", "broccoli", "starfish", "pizza",
           "volcano")
QUICK_CLASSES = ("goldfinch", "starfish")
AM_METHODS = ("simonyan2013", "garon2017", "olah2017")
NATURAL, CLASS, ACCENTUATION = "fel2023 natural", "fel2023 class", "accentuation"
METHODS = (*AM_METHODS, NATURAL, CLASS, ACCENTUATION)
SHOWN = ("target_confidence", "judge_confidence", "agreement", "diversity", "hf_ratio", "seconds_per_image")

Samples = dict[str, dict[str, torch.Tensor]]  # method -> class name -> images
Seconds = dict[str, float | dict[str, float]]  # method -> seconds per image (or per class)


@dataclass
class Protocol:
    """Sizes and MACO's short-run settings. MACO runs with crops resampled to the image size, ``crops``
    per step, crop schedule ``box`` and phase lr ``lr``: the preset's lr 1.0 and 0.5 → 0.05 schedule are
    made for 256+ steps and leave the images at chance at this budget (notebook 02)."""

    classes: list[str] = field(default_factory=lambda: list(CLASSES))
    size: int = 96
    steps: int = 24
    samples: int = 4
    crops: int = presets.SHORT_MACO_CROPS
    box: tuple[float, float] = presets.SHORT_MACO_BOX
    lr: float = presets.SHORT_MACO_LR
    accent_layer: str = "block4"  # Lite0's middle block: the anchor of feature accentuation
    accent_weight: float = 1.0

    @property
    def targets(self) -> list[str]:
        return [c for c in self.classes for _ in range(self.samples)]

    def common(self, batch: int) -> dict:
        return dict(size=self.size, steps=self.steps, batch=batch, seed=0, progress=False)


def quick_protocol() -> Protocol:
    """The smoke run: 2 classes × 2 images, 32 px, 3 steps."""
    return Protocol(classes=list(QUICK_CLASSES), size=32, steps=3, samples=2)


def class_spectra(classes: Sequence[str], size: int) -> dict[str, MagnitudeSpectrum]:
    """The class-measured magnitudes: one per class that has an offline image set of its kind (the
    others are absent, not replaced by the natural one, so the comparison is only where both exist)."""
    from stochvis.worlds import spectra

    return {c: spectra.spectrum(c, size) for c in classes if spectra.class_source(c)}


def other_class_seeds(labels: Sequence[int], targets: Sequence[int], per_class: int) -> list[int]:
    """Indices of seed photos for feature accentuation: for the k-th target class, ``per_class`` photos of
    *other* classes, a different run of them per target, so no image is accentuated towards its own class."""
    ids = []
    for k, target in enumerate(targets):
        others = [i for i, label in enumerate(labels) if label != target]
        if not others:
            raise ValueError(f"no seed photo of a class other than {target}: give photos of at least two classes")
        ids += [others[(k * per_class + j) % len(others)] for j in range(per_class)]
    return ids


def _timed(fn: Callable[[], torch.Tensor], count: int) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    images = fn()
    return images, (time.perf_counter() - start) / count


def run(subject: WrappedModel, protocol: Protocol, *, natural: MagnitudeSpectrum,
        spectra_by_class: Mapping[str, MagnitudeSpectrum], seed_images: torch.Tensor, seed_labels: Sequence[int],
        methods: Sequence[str] = METHODS, workers: int = 1) -> tuple[Samples, Seconds]:
    """Images ({method: {class: images}}) and seconds per image of every method in ``methods``.

    ``natural``: MACO's natural magnitude; ``spectra_by_class``: the class-measured ones (classes without
    one get no ``fel2023 class`` images); ``seed_images``/``seed_labels``: photos (and their subject class
    indices) that feature accentuation starts from; ``workers`` > 1: the methods run side by side in forked
    processes (:func:`stochvis.evaluation.workers.in_workers`), with the same images."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(map(repr, unknown))}: choose from {', '.join(METHODS)}")
    targets, p = protocol.targets, protocol

    def maco(spectrum: MagnitudeSpectrum, wanted: list[str]) -> torch.Tensor:
        short = presets.short_maco(p.size, crops=p.crops, box=p.box, lr=p.lr)
        return presets.run("fel2023", subject, O.class_logit(wanted), spectrum=spectrum,
                           **{**p.common(len(wanted)), **short}).images

    def accentuation() -> torch.Tensor:
        ids = other_class_seeds([int(label) for label in seed_labels], [subject.class_index(c) for c in p.classes],
                                p.samples)
        return presets.accentuate(subject, O.class_logit(targets), seed_images[ids], layer=p.accent_layer,
                                  weight=p.accent_weight, size=p.size, steps=p.steps, seed=0, progress=False).images

    def am(method: str) -> torch.Tensor:
        return presets.run(method, subject, O.class_logit(targets), **p.common(len(targets))).images

    def one(method: str) -> tuple[dict[str, torch.Tensor], float | dict[str, float]]:
        if method == CLASS:  # one run per class with a measured magnitude, timed per class
            images, per_class = {}, {}
            for c in (c for c in p.classes if c in spectra_by_class):
                images[c], per_class[c] = _timed(functools.partial(maco, spectra_by_class[c], [c] * p.samples),
                                                 p.samples)
            return images, per_class
        make = (functools.partial(am, method) if method in AM_METHODS else
                functools.partial(maco, natural, targets) if method == NATURAL else accentuation)
        images, seconds = _timed(make, len(targets))
        return metrics.by_target(images, targets), seconds

    longest_first = sorted(methods, key=lambda m: m not in (NATURAL, CLASS, "olah2017"))
    done = dict(zip(longest_first, in_workers(one, longest_first, workers)))
    return {m: done[m][0] for m in methods}, {m: done[m][1] for m in methods}


def table(samples: Samples, seconds: Seconds, subject: WrappedModel, judges: Mapping[str, WrappedModel],
          workers: int = 1) -> list[dict]:
    """One row per (judge, method, class) from :func:`metrics.compare`, with a ``judge`` column (the
    realism columns are NaN: no reference images); ``workers``: one judge per process."""
    def judged(name: str) -> list[dict]:
        return [{**row, "judge": name}
                for row in metrics.compare(samples, subject=subject, judge=judges[name], seconds_per_image=seconds)]

    return [row for rows in in_workers(judged, list(judges), workers) for row in rows]


def mean_confidence(rows: Sequence[dict], method: str, judge: str, classes: Sequence[int]) -> float:
    """The judge's mean confidence in the target over ``method``'s rows of ``classes`` (class indices)."""
    wanted = set(classes)
    values = [r["judge_confidence"] for r in rows if r["method"] == method and r["judge"] == judge and r["class"] in wanted]
    return sum(values) / len(values) if values else math.nan


def conclusions(rows: Sequence[dict], subject: WrappedModel, classes: Sequence[str], measured: Sequence[str]
                ) -> list[str]:
    """Per judge, the two questions of the section, answered from the rows: does MACO (natural magnitude)
    transfer at least as well as olah2017, and does the class-measured magnitude beat the natural one on the
    classes that have one (``measured``)?"""
    every = [subject.class_index(c) for c in classes]
    sourced = [subject.class_index(c) for c in measured]
    lines = []
    for judge in dict.fromkeys(r["judge"] for r in rows):
        fel_all, olah_all = (mean_confidence(rows, m, judge, every) for m in (NATURAL, "olah2017"))
        natural, by_class = (mean_confidence(rows, m, judge, sourced) for m in (NATURAL, CLASS))
        lines.append(f"{judge}: fel2023 (natural) {fel_all:.3f} vs olah2017 {olah_all:.3f} → "
                     f"{'at least as well' if fel_all >= olah_all else 'worse'}; on {len(sourced)} classes with a "
                     f"class set: class magnitude {by_class:.3f} vs natural {natural:.3f} → "
                     f"{'beats' if by_class > natural else 'does not beat'}")
    return lines


def summary_lines(rows: Sequence[dict], shown: Sequence[str] = SHOWN) -> list[str]:
    """Mean ± std over classes per method, one block per judge."""
    lines = []
    for judge in dict.fromkeys(r["judge"] for r in rows):
        lines.append(f"judge {judge}")
        judged = [r for r in rows if r["judge"] == judge]
        for entry in metrics.format_summary(metrics.summarize(judged), shown):
            lines.append("  " + "  ".join(f"{k}={v}" for k, v in entry.items()))
    return lines


@dataclass
class Result:
    """What :func:`transfer` returns: enough to print, draw and write."""

    protocol: Protocol
    subject: WrappedModel
    samples: Samples
    seconds: Seconds
    rows: list[dict]
    measured: list[str]  # classes with a class-measured magnitude
    seconds_total: float

    def lines(self) -> list[str]:
        p = self.protocol
        return [*summary_lines(self.rows),
                f"\n{len(p.classes)} classes × {p.samples} images, {p.size} px, {p.steps} steps, MACO {p.crops} crops "
                f"box {p.box} lr {p.lr}; ran in {self.seconds_total:.0f} s",
                *conclusions(self.rows, self.subject, p.classes, self.measured)]


def transfer(protocol: Protocol | None = None, *, models: Mapping[str, WrappedModel] | None = None,
             csv: str | Path | None = None, workers: int = 1) -> Result:
    """The whole section on the offline models: load Lite0/1/2 (unless given as ``models``), the spectra
    (cached under ``assets.home()/spectra`` after the first run) and foolbox's photos, run every method,
    judge with Lite1 and Lite2, and write the rows to ``csv`` when given; ``workers``: processes (:func:`run`)."""
    from stochvis.data import foolbox_imagenet
    from stochvis.models import load_model
    from stochvis.worlds import spectra

    started = time.perf_counter()
    protocol = protocol or Protocol()
    models = dict(models) if models is not None else {name: load_model(name) for name in (SUBJECT, *JUDGES)}
    subject = models[SUBJECT]
    photos = foolbox_imagenet()
    by_class = class_spectra(protocol.classes, protocol.size)
    samples, seconds = run(subject, protocol, natural=spectra.natural_spectrum(protocol.size),
                           spectra_by_class=by_class, seed_images=photos.tensors((protocol.size,) * 2)[0],
                           seed_labels=photos.labels, workers=workers)
    rows = table(samples, seconds, subject, {name: models[name] for name in JUDGES}, workers=workers)
    if csv is not None:
        metrics.write_csv(rows, csv)
    return Result(protocol, subject, samples, seconds, rows, list(by_class), time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The ImageNet transfer table (EfficientNet-Lite0 judged by Lite1/2).")
    parser.add_argument("--quick", action="store_true", help="2 classes × 2 images, 32 px, 3 steps (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="folder for 08_imagenet_transfer.csv")
    parser.add_argument("--workers", type=int, default=2, help="processes for the methods (default 2: both cores)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # on a shared 2-core machine, 2 threads spin
    result = transfer(quick_protocol() if args.quick else Protocol(), csv=args.out / "08_imagenet_transfer.csv",
                      workers=args.workers)
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
