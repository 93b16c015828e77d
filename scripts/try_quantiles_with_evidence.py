"""What does the capped class evidence do on its own, added to VITAL's matching, and what does a backdrop with a
photograph's spectrum do? An exploration beside the natural table, not a row of it: it scores the candidates on
training composites (the rule the table's choices are made by) *and* on the held-out ones, so none of it may be
used to choose a row.

Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol): the class's channel distributions at
VITAL's five layers plus the capped class evidence of the table's best row
(:func:`stochvis.experiments.natural.matched_with_evidence`) on the Fourier image, the smooth cut-out and the cut-out
on a photo-spectrum backdrop (:meth:`~stochvis.experiments.natural.Setting.photo_cutout`); the four shallow layers
plus the evidence, with no layout and no block5; and the VITAL-style row itself.

    .venv/bin/python scripts/try_quantiles_with_evidence.py [--seeds 0 1 2]     # ≈ 8 minutes per seed, 2 cores

Measured on 2026-12-04, seed 0, held-out FID-like Lite1 / Lite2 / VGG16 (conf Lite1 / Lite2; VGG16 novelty):
five layers + evidence, Fourier 1494 / 1668 / 8952 (0.65 / 0.65; 0.83); smooth cut-out 1545 / 1866 / 8638
(0.49 / 0.44; 0.68); photo-spectrum cut-out 1351 / 1717 / 8826 (0.67 / 0.60; 0.77); four layers + evidence, no
layout 1559 / 1870 / 10450 (0.66 / 0.64; 0.92); VITAL-style 1500 / 1714 / 8828 (0.34 / 0.28; 0.84). On training
composites the rule would pick the photo-spectrum cut-out among these (mean rank 2.00; smooth cut-out 2.17, VITAL
2.67, Fourier 3.17, four layers 5.00). Seeds 1 / 2 of the two most promising, FID-like Lite1 · Lite2 · VGG16:
Fourier 1561 / 1436 · 1882 / 1722 · 9254 / 9020; photo-spectrum cut-out 1421 / 1490 · 1732 / 1801 · 8988 / 9587
(VGG16 novelty 0.80 / 0.79), against VITAL's 1604 / 1651 · 1905 / 1837 · 8858 / 8696 (from the README's seed study).

Reading: the capped evidence lifts VITAL's judge confidence from 0.34 / 0.28 to about the real composites' level
(0.45 / 0.54), which VITAL misses; in the Lites' features it keeps or improves VITAL's FID-like (the photo cut-out
beats it under Lite1 in every seed, under Lite2 in two of three), but in VGG16's features — the judge of another
family — VITAL stays ahead (means over seeds 0-2: photo cut-out 9134, Fourier 9075, VITAL 8794). The evidence
without block5's distributions (four layers) loses much realism: block5 is where the matching says "one object,
this much of it". Neither candidate meets the goal, so the table keeps its rows.
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural

CANDIDATES = {"five layers + evidence, Fourier": lambda s: natural.matched_with_evidence(s),
              "five layers + evidence, cut-out": lambda s: natural.matched_with_evidence(s, param="cutout"),
              "five layers + evidence, photo-spectrum cut-out":
                  lambda s: natural.matched_with_evidence(s, param=s.photo_cutout()),
              "four layers + evidence (no layout)": lambda s: natural.matched_with_evidence(s, natural.PRIOR_LAYERS),
              natural.VITAL: natural.vital_style}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES)
