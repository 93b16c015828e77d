"""How much capped class evidence should the sampled-layout row of the natural table carry? Chosen on
*training* composites, never the held-out ones.

The row ``sampled layout + quantiles + class evidence`` adds ``w · class_set_evidence`` (the class set's
log-probability, capped at the subject's mass on real training composites of the kind) to the layout and the
shallow distribution matching. Each candidate ``w`` runs the row as the table does (same protocol, seeds and
images); :func:`stochvis.experiments.explorations.select_on_training` scores them with every judge against the kind's
*training* composites and picks the best mean rank over FID-like distance and plausibility.

    .venv/bin/python scripts/choose_evidence_weight.py            # 0.1 0.25 1 (≈ 5 minutes on 2 cores)

Measured on 2026-12-03 (5 kinds × 3 images, 128 px, 128 steps), FID-like / plausibility against training
composites, Lite1 · Lite2 · VGG16: w = 0.1: 1273 / 0.585 · 1483 / 0.609 · 7080 / 0.496; w = 0.25: 1272 / 0.531 ·
1471 / 0.574 · 7505 / 0.416; w = 1: 1367 / 0.429 · 1614 / 0.454 · 7770 / 0.305 → 0.1 (mean rank 1.3).
"""

from __future__ import annotations

import argparse

import torch

from stochvis.evaluation.workers import in_workers
from stochvis.experiments import explorations, natural
from stochvis.models import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="*", type=float, default=[0.1, 0.25, 1.0])
    args = parser.parse_args()
    torch.set_num_threads(1)
    s = natural.natural_setting(load_model(natural.SUBJECT), natural.Protocol())
    runs = in_workers(lambda w: natural.sampled_layout(s, evidence_weight=w), list(args.weights), 2)
    _, lines = explorations.select_on_training(s, dict(zip([f"w={w:g}" for w in args.weights], runs)), natural.load_judges())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
