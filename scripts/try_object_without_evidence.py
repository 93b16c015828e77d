"""With the objects' own distributions inside the outline, does the object still need the class evidence? An
exploration beside the natural table, not a row of it: it scores the candidates on training composites (the rule
the table's choices are made by) *and* on the held-out ones, so none of it may be used to choose a row.

Why: the silhouette row (``natural.SILHOUETTE_ROW``) asks the object alone on grey for two things, the capped class
evidence and the kind's real objects' distributions at every block (``TrainingStatistics.object_curves``). The
evidence is what fills the object with speckle (fine detail is its cheapest source), and the row's weak condition is
realism in VGG16's features. Before the objects' curves came in, dropping the object's evidence ranked last
(``scripts/try_drawn_silhouettes.py``: 3.00): nothing else then said what the inside of the outline should be. The
objects' curves now say it, and they are the kind's own: perhaps enough without the evidence. The whole image keeps
its evidence in both candidates.

Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol): the row as it is; the row with its object
view matched to the objects' curves only (no evidence on it).

The rule, fixed here before the run: if the candidate without the object's evidence ranks first on training
composites, it replaces the row (same views, a little cheaper), and the pooled table and the report are rerun
before the change lands — in the next wave if this one has no time left for them; otherwise a negative result.

    .venv/bin/python scripts/try_object_without_evidence.py [--seeds 0]     # ≈ 10 minutes for seed 0, 2 cores

Measured on 2026-12-06, seed 0. On training composites the rule keeps the row (mean realism rank 1.17 against
1.83). Held out (seen, never used to choose), Lite1 / Lite2 / VGG16, the row → curves only: FID-like 1259 / 1617 /
9475 → 1324 / 1699 / 9438; plausibility 0.498 / 0.535 / 0.387 → 0.515 / 0.524 / 0.387; novelty 0.98 / 0.99 / 0.94
→ 1.02 / 1.01 / 0.92; confidence 0.66 / 0.54 → 0.73 / 0.67.

Reading: a negative result, and a telling one. Without its own evidence the object is *more* of its kind to the
Lites (the whole image's evidence, capped, is met elsewhere) and no less speckled by eye: the speckle is not the
object evidence's alone. Matching a Fourier image's distributions at every block, the whole image's and the
object's, makes it too — which points at the targets (curves of whole composites and of cut-outs at 128 px, fine
texture included) or at the parameterisation, not at the evidence.
"""

from __future__ import annotations

import functools

from stochvis.experiments import explorations, natural

CANDIDATES = {natural.SILHOUETTE_ROW: functools.partial(natural.in_drawn_silhouette, object_colours="kind"),
              "the same, object matched to the objects' curves only":
                  lambda s: natural.in_drawn_silhouette(s, object_evidence=False, object_colours="kind")}


# The row's objects were matched at every block when this ran (before scripts/try_coarser_object_curves.py), and it
# had no patch prior (before scripts/try_patch_prior.py)
EARLIER_PROTOCOL = {"object_curves_from": "stem", "patch_prior_layers": 0, "object_decoder_detail": None,
                    "backdrop_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES,
                      protocol=EARLIER_PROTOCOL)
