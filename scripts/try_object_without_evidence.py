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
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural

CANDIDATES = {natural.SILHOUETTE_ROW: natural.ROWS[natural.SILHOUETTE_ROW],
              "the same, object matched to the objects' curves only":
                  lambda s: natural.in_drawn_silhouette(s, object_evidence=False)}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES)
