"""How firm is the natural table's closest margin? A measurement on the pooled images, not a row: the goal's
last condition — a statistics-driven row below the VITAL-style row in FID-like distance, under every judge — read
with a paired permutation test and a jackknife interval (:mod:`stochvis.evaluation.uncertainty`), by FID-like and by
KID, on the table's yardstick and on every held-out cut-out's; and each seed's images alone, as the seed-0 table
measures them.

Why: the silhouette row meets that condition in VGG16's features by 2.4% (7526 against 7708), about what float
rounding alone moved the row once (2.1%). Rounding is one source of spread; the nine images per kind are another,
and the larger: one image moves a kind's FID-like by percents. The permutation test asks whether the two rows'
images could be one population; the jackknife leaves each image out of both rows in turn.

    .venv/bin/python -m stochvis.experiments.natural --seeds 0 1 2 --pool --out DIR     # ≈ 32 minutes, 2 cores
    .venv/bin/python scripts/measure_margin.py --images DIR/09_natural_pooled_images.safetensors
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from stochvis.evaluation import metrics, uncertainty
from stochvis.experiments import natural as N
from stochvis.experiments import tables
from stochvis.models import load_model

ROWS = (N.SILHOUETTE_ROW, N.DRAWN_ROW, N.DRAWN_COLOUR_ROW)  # the rows that meet the goal's numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, required=True, help="a pooled run's 09_natural_pooled_images.safetensors")
    parser.add_argument("--permutations", type=int, default=1000, help="permutations of the test (default 1000)")
    parser.add_argument("--judges", nargs="+", default=None, metavar="JUDGE", help="judges to ask (default all)")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), metavar="ROW", help="rows set against VITAL's")
    parser.add_argument("--quick", action="store_true", help="the images of a --quick pooled run (a check that it runs)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    samples = tables.load_images(args.images)
    missing = [row for row in (N.VITAL, *args.rows) if row not in samples]
    if missing:
        raise SystemExit(f"{args.images} lacks the rows {missing}; it has {sorted(samples)}")
    s = N.natural_setting(load_model(N.SUBJECT), N.quick_protocol() if args.quick else N.Protocol())
    judges = [j for j in N.load_judges() if args.judges is None or j.name in args.judges]
    if not judges:
        raise SystemExit(f"no judge among {args.judges}; the judges are {[j.name for j in N.load_judges()]}")
    per_seed = s.protocol.samples
    print(f"{len(next(iter(samples[N.VITAL].values())))} images per kind ({per_seed} per seed); "
          f"{args.permutations} permutations; each row against the VITAL-style row")
    for judge in judges:
        feats = {row: {k: judge.features(v) for k, v in samples[row].items()} for row in (N.VITAL, *args.rows)}
        for name, real in (("the table's reference", s.held_out), ("every held-out cut-out", s.every_held_out())):
            reference = metrics.ClassReference({k: judge.features(v) for k, v in real.items()}, judge.layer)
            print(f"== {judge.name}, against {name}")
            measures = {"FID-like": reference.frechet_in_span, "KID": reference.kid}
            for measure_name, measure in measures.items():
                for row in args.rows:
                    margin = uncertainty.paired_margin(measure, feats[row], feats[N.VITAL],
                                                       permutations=args.permutations)
                    print(margin.line(f"  {measure_name:8s} {row[:56]:56s} ", digits=0 if measure_name != "KID" or
                                      judge.name == N.FEATURE_JUDGE else 2))
            seeds = {row: uncertainty.each_seed(reference.frechet_in_span, feats[row], per_seed)
                     for row in (N.VITAL, *args.rows)}
            for row, values in seeds.items():
                print(f"  each seed, {row[:50]:50s} " + " / ".join(f"{v:.0f}" for v in values))


if __name__ == "__main__":
    main()
