"""Does a prior on the kind's photographs' small patches take the speckle out of the silhouette row? An exploration
beside the natural table, not a row of it: it scores the candidates on *validation* composites (the rule's own split)
and, seen but never used to choose, on the held-out ones.

Why: the row misses the goal only on VGG16's FID-like against VITAL's (8.3% pooled), most in its fruit, whose
objects are a speckle of saturated red and green where real apples are smooth; its VGG16 plausibility is below every
draw of real training composites. Nothing tried on the network's side (the objects' curves from the stem or from
block3, each image one drawn member, a cooler draw) nor a ring spectrum or a smoother Fourier object cured the
speckle. The network's channel distributions leave the finest scale almost free; a Gaussian mixture of the kind's
photographs' 6×6 patches (EPLL's prior, ``optvis.regularizers.patch_prior``) knows what a small piece of a
photograph looks like. Measured before this run on the committed seed-0 images, with mixtures of the fit part: the
share of 6×6 patches (stride 3) below the outlier threshold (the 10% quantile of held-aside fit-part patches) is
0.23–0.45 in validation composites, 0.08–0.25 in VITAL's images, 0.66–0.97 in the silhouette row (fruit 0.90,
vehicles 0.97): the prior separates the row from real images where VGG16 does. Candidates (5 kinds × 3 images per
seed, 128 px, 128 steps, the table's protocol): the row as it is; the row with :class:`PatchOutliers` (each image's
kind's mixture, 8 components, fitted on the fit part's composites) weighing as 2 matched layers (weight 1.0) and as
8 (4.0, the whole matching's strength).

The rule, fixed here before the run: the rule's own split (statistics and mixtures of the fit part, scored against
validation composites), the guard at 5%, and the images of two optimisation seeds (0 and 1) pooled per kind.

    .venv/bin/python scripts/try_patch_prior.py [--seeds 0 1]     # ≈ 25 minutes for two seeds, 2 cores

Measured on 2026-12-07, seeds 0 and 1. On validation composites the rule **chooses the prior at 2 layers**: mean
realism rank 1.83 (the row 2.00, 8 layers 2.17), the guard passing it (its worst, VGG16 FID-like +1.3%). Lite1 /
Lite2 / VGG16 on validation, the row → 2 layers → 8 layers: FID-like 1093 / 1192 / 5446 → 1046 / 1181 / 5518 → 1062
/ 1224 / 5389; plausibility 0.535 / 0.597 / 0.467 → 0.532 / 0.581 / 0.483 → 0.527 / 0.593 / 0.482. Held out (seen,
never used to choose; mean over the two seeds): FID-like 1415 / 1733 / 8868 → 1364 / 1693 / 8843 → 1380 / 1728 /
8597; KID 2.60 / 4.98 / 2835 → 2.31 / 4.55 / 2841 → 2.43 / 4.88 / 2800; plausibility 0.492 / 0.544 / 0.398 → 0.497 /
0.542 / 0.414 → 0.492 / 0.552 / 0.415; confidence 0.65 / 0.64 → 0.65 / 0.65 → 0.64 / 0.57; VGG16 novelty 0.90 →
0.89 → 0.86. The prior does what it says: the seed-0 images' share of outlier patches falls from 0.62–0.96 to
0.13–0.30 (2 layers) and 0.06–0.14 (8 layers), at or below validation composites' 0.23–0.45.

Reading: a small positive, chosen by the rule, and a lesson. By eye the images hardly change: the outlier patches
were a fine grain below what one sees, and removing it lowers FID-like and KID under both Lites (−2 to −11%) and
raises VGG16's plausibility (+0.016) but leaves VGG16's FID-like where it was (−0.3%). The visible speckle is coarser:
at twice the scale (6×6 patches of the image halved) the row's share of outlier patches is already 0.10–0.42 against
validation composites' 0.21–0.38 (its fruit, 0.42, the exception) and VITAL's 0.00. What VGG16 finds unreal in the
row is not in its 6-pixel patches. About 25 minutes (the mixtures' fit about 2 of them). (Run before the mixture's
likelihood became one matrix product for all components: a rerun matches it to float rounding, not to the bit.)

Then, as part of the row, pooled over three seeds with the table's statistics (``python -m
stochvis.experiments.natural --seeds 0 1 2 --pool --methods`` with the row's name, 2026-12-07, against the row without
it pooled on the same machine): VGG16 FID-like 8230 → 7999 (−2.8%; lower in four kinds of five, vehicles the
exception), KID 3204 → 3120, plausibility 0.366 → 0.374; the Lites' FID-like 1105 / 1422 → 1110 / 1428. So pooled
the gain went to VGG16, where the two-seed held-out check had put it in the Lites: at these sample sizes which judge
a small change helps is within the seeds' noise; the direction, nearer the real composites, held.
"""

from __future__ import annotations

import functools

from stochvis.experiments import explorations, natural
from stochvis.optvis import regularizers as R

LAYERS_WEIGHT = (2, 8)  # the prior weighs as this many matched layers


def candidates(s: natural.Setting) -> dict:
    mixtures = {k: R.fit_patch_mixture(images) for k, images in s.train.items()}  # the fit part's, under the split
    per_image = s.per_image(mixtures)
    one_layer = s.one_layer_weight()
    rows = {natural.SILHOUETTE_ROW: natural.in_drawn_silhouette}
    for layers in LAYERS_WEIGHT:
        rows[f"+ the kind's patch prior ({layers} layers)"] = functools.partial(
            natural.in_drawn_silhouette, penalties=[R.PatchOutliers(layers * one_layer, per_image)])
    return rows


# The row as it was before this exploration chose its patch prior
EARLIER_PROTOCOL = {"patch_prior_layers": 0, "object_decoder_detail": None,
                    "backdrop_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], candidates, validation=True, incumbent_tolerance=0.05, rule_seeds=2,
                      protocol=EARLIER_PROTOCOL)
