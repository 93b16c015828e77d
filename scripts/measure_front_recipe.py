"""Which preset should ``stochvis.visualize`` use by default? Measured, not guessed.

Subject EfficientNet-Lite0 (every preset maximises its class logit), judge EfficientNet-Lite1 (never optimised):
three ImageNet classes at 128 px, one image per class, batched (one run per recipe). Every ``--every`` steps the
images are kept; afterwards the judge's softmax for the target class is measured on each snapshot, so each recipe
gives judge confidence against its own wall-clock seconds. Printed per recipe: seconds per step, the judge's
confidence at the end, the first second at which the mean judge confidence reached ``--reach``, and the mean
confidence per second of the run (area under the confidence-vs-seconds curve ÷ seconds); the final images are
written to ``--out`` as one PNG per recipe for looking at.

    .venv/bin/python scripts/measure_front_recipe.py --out /tmp/front_recipes

The MACO row (``fel2023``, short setting) needs a natural magnitude spectrum; this script takes it from
:mod:`stochvis.worlds.spectra` (a world's data), which is why ``visualize`` may only default to it with a
spectrum the caller gives.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import stochvis
from stochvis.evaluation import metrics
from stochvis.optvis import objectives as O
from stochvis.optvis import presets

CLASSES = ("goldfinch", "starfish", "volcano")
RECIPES = {
    "simonyan2013": dict(lr=1.0),
    "yosinski2015 #0": dict(setting=0),
    "yosinski2015 #2": dict(setting=2),
    "garon2017": dict(),
    "olah2017": dict(),
    "fel2023 (short MACO)": dict(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=96)
    parser.add_argument("--every", type=int, default=8)
    parser.add_argument("--reach", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    subject, judge = stochvis.load_model("efficientnet_lite0", "cpu"), stochvis.load_model("efficientnet_lite1", "cpu")
    objective = O.class_logit(list(CLASSES))
    rows = []
    for name, options in RECIPES.items():
        if args.only and name not in args.only:
            continue
        preset = name.split()[0]
        options = dict(options)
        if preset == "fel2023":
            from stochvis.worlds.spectra import natural_spectrum

            options.update(spectrum=natural_spectrum(args.size), **presets.short_maco(args.size))
        options.setdefault("size", args.size)
        start = time.perf_counter()
        result = presets.run(preset, subject, objective, steps=args.steps, batch=len(CLASSES), seed=args.seed,
                             record_every=args.every, progress=False, **options)
        seconds = time.perf_counter() - start
        per_step = seconds / args.steps
        curve = []
        for step, images in result.snapshots:
            confidence = metrics.target_confidence(judge, images.clamp(0, 1), list(CLASSES))
            curve.append((step * per_step, float(confidence.mean())))  # snapshot at step s: after s steps
        final = metrics.target_confidence(judge, result.images.clamp(0, 1), list(CLASSES))
        reached = next((t for t, c in curve if c >= args.reach), None)
        area = sum((t1 - t0) * (c0 + c1) / 2 for (t0, c0), (t1, c1) in zip(curve, curve[1:]))
        subject_final = metrics.target_confidence(subject, result.images.clamp(0, 1), list(CLASSES))
        rows.append((name, per_step, float(final.mean()), final.tolist(), float(subject_final.mean()), reached,
                     area / curve[-1][0]))
        print(f"{name:22s} {per_step * 1e3:6.0f} ms/step  judge {float(final.mean()):.3f} "
              f"{[round(v, 2) for v in final.tolist()]}  subject {float(subject_final.mean()):.3f}  "
              f"reach {args.reach}: {'never' if reached is None else f'{reached:.1f} s'}  "
              f"mean conf/s-run {area / curve[-1][0]:.3f}  total {seconds:.1f} s", flush=True)
        if args.out is not None:
            from stochvis.viz import display

            args.out.mkdir(parents=True, exist_ok=True)
            figure = display.image_grid(result.images.clamp(0, 1), titles=[f"{c} {v:.2f}" for c, v in zip(
                CLASSES, final.tolist())], columns=len(CLASSES), size=2.5)
            display.save_figure(figure, args.out / f"{name.split()[0]}{name.split()[1] if ' #' in name else ''}.png")


if __name__ == "__main__":
    main()
