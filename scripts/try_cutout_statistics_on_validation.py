"""Do the silhouette row's two statistics of the training cut-outs — the objects' curves and the objects' colours —
still win when the rule's reference is not their source? An exploration beside the natural table, not a row of it:
it scores the candidates under the rule's own split (validation composites) *and* on the held-out composites, so
none of its held-out numbers may be used to choose a row.

Why: the table's rule scores a candidate against *training* composites, and every statistic a row reads is measured
on those same composites and their cut-outs. A candidate that copies more of them is then scored against the very
images it was fitted to. The two changes of the silhouette row that added statistics of the training cut-outs both
won on training composites and lost held out: the objects' curves (``scripts/try_object_curves.py``: VGG16 FID-like
+2.7% held out) and the objects' colours (``scripts/try_object_colours.py``: Lite1 / Lite2 FID-like +10.6% / +8.5%
held out). The rule's own split (``worlds.natural.split(validation=True)``, ``Protocol(validation=True)``) applies
the table's split again inside the training side: every statistic from its fit part (three quarters of the training
cut-outs, seven of the ten training photos), the rest — cut-outs and photos no statistic has seen — as the rule's
reference. The held-out composites stay as they are and are still only seen. This split was built after the two
changes' held-out numbers were seen (that is what exposed the bias); the rule below is fixed before this run.

Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol, statistics of the fit part): the row as it
is (the incumbent: the objects' curves and the cut-outs' colours); without the cut-outs' colours (the object on the
kind's composites' basis); without the objects' curves; without either (the row before both changes). Same cost
each, but the last two match one view fewer.

The rule, fixed here before the run: the table's rule (mean realism rank over FID-like and plausibility under every
judge) against the *validation* composites, with the guard at 5% (``explorations.choose(incumbent_tolerance=0.05)``).
If a challenger is chosen, the row drops what it drops, and the pooled table and the report are rerun before that
lands; if the incumbent is chosen, the row stands, now chosen by a rule that is not scored against its own source.

    .venv/bin/python scripts/try_cutout_statistics_on_validation.py [--seeds 0]     # ≈ 10 minutes for seed 0, 2 cores

Measured on 2026-12-07, seed 0. Against the validation composites the rule keeps the row as it is (mean realism rank
2.17; without the objects' curves 2.50, without the cut-outs' colours 2.67, without either 2.67), and the guard
would have refused two challengers anyway (without the cut-outs' colours: VGG16 FID-like +6.1%; without either:
VGG16 plausibility −6.0%). **The row stands, now chosen by a rule not scored against its statistics' source.**
Validation, Lite1 / Lite2 / VGG16, the row → without the cut-outs' colours → without the objects' curves → without
either: FID-like 1410 / 1601 / 7065 → 1286 / 1491 / 7497 → 1426 / 1599 / 6931 → 1335 / 1525 / 7049; plausibility
0.535 / 0.582 / 0.481 → 0.515 / 0.564 / 0.460 → 0.526 / 0.572 / 0.468 → 0.513 / 0.575 / 0.453 (the fit part's
training composites, the floor: FID-like 1621 / 1883 / 8071, plausibility 0.528 / 0.562 / 0.490). Held out (seen,
never used to choose; images of the fit part's statistics): FID-like 1471 / 1892 / 9142 → 1307 / 1657 / 9458 → 1519
/ 1875 / 9278 → 1322 / 1691 / 9200; plausibility 0.485 / 0.512 / 0.403 → 0.479 / 0.521 / 0.401 → 0.460 / 0.495 /
0.367 → 0.482 / 0.526 / 0.371; confidence 0.73 / 0.50 → 0.53 / 0.31 → 0.63 / 0.58 → 0.70 / 0.70.

Reading: the split did what it was built for — it shows the cut-outs' colours' cost under the Lites that training
composites hid (Lite1 / Lite2 FID-like +9.6% / +7.4% on validation, against +4.4% / +2.4% on training composites in
``scripts/try_object_colours.py``, and +12.5% / +14.2% held out here) — but it does not reverse the choice: the
colours still win VGG16's FID-like (−5.8%) and every judge's plausibility, so they keep the best mean rank. All three
references agree on the sign of each FID-like difference between the row and its colours-free variant; what the
training composites got wrong was the size of the Lites' cost, which the validation composites nearly restore
(Lite1 +4.4% training, +9.6% validation, +12.5% held out; VGG16 −2.0%, −5.8%, −3.3%). By eye the two rows with the cut-outs' colours hold the most nameable
objects (brown bison-like bovines, red fruit, birds with a head and wing); without them the objects fade into the
backdrop's colours. Later explorations use this split (``explorations.main(validation=True)``).
"""

from __future__ import annotations

import functools

from stochvis.experiments import explorations, natural

CANDIDATES = {
    natural.SILHOUETTE_ROW: natural.ROWS[natural.SILHOUETTE_ROW],
    "without the cut-outs' colours": functools.partial(natural.in_drawn_silhouette, object_colours="kind"),
    "without the objects' curves": functools.partial(natural.in_drawn_silhouette, object_curves=False),
    "without either": functools.partial(natural.in_drawn_silhouette, object_colours="kind", object_curves=False),
}


# The row's objects were matched at every block when this ran (before scripts/try_coarser_object_curves.py), and it
# had no patch prior (before scripts/try_patch_prior.py)
EARLIER_PROTOCOL = {"object_curves_from": "stem", "patch_prior_layers": 0, "object_decoder_detail": None,
                    "backdrop_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, incumbent_tolerance=0.05, validation=True,
                      longest_first=list(CANDIDATES)[:2],
                      protocol=EARLIER_PROTOCOL)
