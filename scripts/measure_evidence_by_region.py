"""Where does the silhouette row's class evidence sit: in its object or behind it? A measurement on pooled images,
not a row: each judge's mass on the kind's class set for the whole image, for the object alone on grey (as the row's
object view shows it) and for the backdrop alone, the object's outline greyed.

Why: with its backdrop drawn by a deep decoder (``scripts/try_decoder_backdrop.py``) the row's confidence halved
while its realism hardly moved. The capped evidence is asked of the whole image and of the object alone; nothing
keeps the whole image's share of it inside the outline, so a Fourier backdrop, which can hold any texture, may carry
some, where a decoder's smooth regions cannot. The outlines are the row's own (``natural.drawn_silhouettes``, drawn
from the training cut-outs' shapes and seeded by the optimisation seed), so each pooled image is split where its
object was.

    .venv/bin/python scripts/measure_evidence_by_region.py --images BEFORE.safetensors AFTER.safetensors

Each file: a pooled run's ``09_natural_pooled_images.safetensors`` (seeds 0, 1, 2, consecutive per kind) holding the
silhouette row.

Measured on 2026-12-08 on the row's pooled images with its Fourier backdrop and with its decoder backdrop (45 each;
about 5 minutes), Lite1 / Lite2 mass on the kind's set, the class mean (birds, mammals, bovines, fruit, vehicles):

* Fourier backdrop: whole 0.587 / 0.608; object alone 0.544 / 0.473; **backdrop alone 0.238 / 0.280** (Lite1 0.55 /
  0.46 / 0.08 / 0.01 / 0.09, Lite2 0.56 / 0.35 / 0.11 / 0.13 / 0.25).
* decoder backdrop: whole 0.506 / 0.562; object alone 0.499 / 0.456; **backdrop alone 0.161 / 0.119** (Lite1 0.17 /
  0.54 / 0.00 / 0.02 / 0.08, Lite2 0.21 / 0.27 / 0.01 / 0.00 / 0.10).

Reading: a Fourier backdrop carried class evidence of its own, most for birds and mammals — the photographs behind
real cut-outs were chosen to show none of the classes — and the decoder's holds half as much or less under Lite2, a
third less under Lite1, while the object alone keeps about what it had: the confidence the row lost is the part that
was not in its object. The mammals' decoder backdrops still hold some (0.54 under Lite1).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from stochvis.evaluation import metrics
from stochvis.experiments import natural as N
from stochvis.experiments import tables
from stochvis.models import load_model
from stochvis.optvis.shaped import GREY
from stochvis.worlds import natural


def outlines(s: N.Setting, seeds: int) -> dict[str, torch.Tensor]:
    """kind → the row's outlines of ``seeds`` pooled seeds, in the pooled file's order (seed-major within a kind)."""
    p = s.protocol
    drawn = [N.drawn_silhouettes(dataclasses.replace(s, protocol=dataclasses.replace(p, seed=seed)))
             for seed in range(seeds)]
    return {k: torch.cat([d[i * p.samples:(i + 1) * p.samples] for d in drawn]) for i, k in enumerate(p.kinds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, nargs="+", required=True, help="pooled images files to compare")
    parser.add_argument("--quick", action="store_true", help="the images of a --quick pooled run")
    args = parser.parse_args()
    torch.set_num_threads(2)
    s = N.natural_setting(load_model(N.SUBJECT), N.quick_protocol() if args.quick else N.Protocol())
    judges = [j for j in N.load_judges() if j.has_head]
    for path in args.images:
        images = tables.load_images(path)
        if N.SILHOUETTE_ROW not in images:
            raise SystemExit(f"{path} lacks the row {N.SILHOUETTE_ROW!r}; it has {sorted(images)}")
        row = images[N.SILHOUETTE_ROW]
        seeds = len(next(iter(row.values()))) // s.protocol.samples
        masks = outlines(s, seeds)
        print(f"== {path} ({seeds} seeds)")
        for judge in judges:
            parts = {"whole": [], "object alone": [], "backdrop alone": []}
            for kind in s.protocol.kinds:
                made, mask = row[kind], masks[kind]
                views = {"whole": made, "object alone": mask * made + (1 - mask) * GREY,
                         "backdrop alone": (1 - mask) * made + mask * GREY}
                indices = natural.class_indices(kind, judge.model.classes)
                for name, view in views.items():
                    _, probs = judge.features_and_probabilities(view)
                    parts[name].append(float(metrics.set_scores(probs, indices)[0].mean()))
            print(f"  {judge.name}: " + "; ".join(f"{name} {sum(v) / len(v):.3f} (" +
                                                   " / ".join(f"{x:.2f}" for x in v) + ")"
                                                   for name, v in parts.items()))
    print("(per kind in the order " + ", ".join(s.protocol.kinds) + ")")


if __name__ == "__main__":
    main()
