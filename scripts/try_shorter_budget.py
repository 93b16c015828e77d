"""Is the silhouette row more real to another family with *fewer* steps? An exploration beside the natural table, not
a row of it: it scores the candidates on training composites (the rule the table's choices are made by) *and* on the
held-out ones, so none of it may be used to choose a row.

Why: four times the steps (``scripts/try_longer_budget.py``, the colour-basis row at 512 instead of 128) kept each
image's composition and added contrast and saturation, which VGG16's features read as less real (FID-like +8.7%).
The silhouette row's one missed condition is VGG16's realism. If what the later steps add is mostly that excess, a
shorter run stops before it — and costs less, where the report has about 10% of its time to spare. If the images
are not yet matched at fewer steps, every judge says so.

Candidates (5 kinds × 3 images, 128 px, the table's protocol otherwise): the row at 128 steps (the incumbent), at 96
and at 64. Same learning rate and everything else; a row's steps are a column of the table.

The rule, fixed here before the run: the table's rule on training composites (mean realism rank) with the guard at
5% (``explorations.choose(incumbent_tolerance=0.05)``). If a shorter budget is chosen, the silhouette row runs at it
(its steps shown in the table) and the pooled table and the report are rerun before it lands; otherwise a negative
result.

    .venv/bin/python scripts/try_shorter_budget.py [--seeds 0]     # ≈ 11 minutes for seed 0, 2 cores
"""

from __future__ import annotations

import dataclasses

from stochvis.experiments import explorations, natural


def at_steps(steps: int):
    def row(s: natural.Setting) -> dict:
        return natural.in_drawn_silhouette(dataclasses.replace(s, protocol=dataclasses.replace(s.protocol,
                                                                                                 steps=steps)))
    return row


CANDIDATES = {f"{natural.SILHOUETTE_ROW}, 128 steps": natural.ROWS[natural.SILHOUETTE_ROW],
              "the same, 96 steps": at_steps(96), "the same, 64 steps": at_steps(64)}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, incumbent_tolerance=0.05,
                      longest_first=(f"{natural.SILHOUETTE_ROW}, 128 steps",))
