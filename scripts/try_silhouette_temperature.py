"""Does the silhouette row need its curves drawn as far from the training composites as the drawn row does? An
exploration beside the natural table, not a row of it: it scores the candidates on *validation* composites (the
rule's own split) and, seen but never used to choose, on the held-out ones.

Why: what sets the silhouette row apart from real composites is VGG16's plausibility (0.354 pooled, below every one
of 40 draws of real training composites scored as a row: ``scripts/measure_training_composites_as_a_row.py``), while
its VGG16 novelty (0.91) has room above the goal's 0.8. Its whole-image curves are drawn at the temperature calibrated
for the drawn row (``Protocol.drawn_temperature="calibrated"``, about 1.6: draws as far from the training curves as a
composite of another photo and cut-out), which there lifted VGG16 novelty from 0.77 to the bar and cost plausibility
0.03 (``scripts/choose_drawn_temperature.py``). The silhouette row draws an outline too, a second source of novelty
the calibration does not know of, so it may be paying for novelty twice. Candidates (5 kinds × 3 images per seed, 128
px, 128 steps, the table's protocol): the row as it is; its curves drawn at temperature 1 (the density's own spread);
at temperature 0 (every image of a kind on the kind's mean curves, as the every-block row, the outline its only draw).

The rule, fixed here before the run: the rule's own split (statistics of the fit part, scored against validation
composites), the guard at 5%, and the images of two optimisation seeds (0 and 1) pooled per kind. The rule reads
realism only, and a cooler draw is nearer the training composites by construction, so a candidate it chooses is a
*proposal*: it replaces the row only if the pooled table (three seeds, the next wave's) keeps the novelty condition;
otherwise a negative result.

    .venv/bin/python scripts/try_silhouette_temperature.py [--seeds 0 1]     # ≈ 15 minutes for two seeds, 2 cores
"""

from __future__ import annotations

import dataclasses
import functools

from stochvis.experiments import explorations, natural


def at_temperature(s: natural.Setting, temperature: float) -> dict:
    """The row with its whole-image curves drawn at ``temperature`` instead of each kind's calibrated one."""
    return natural.in_drawn_silhouette(
        dataclasses.replace(s, protocol=dataclasses.replace(s.protocol, drawn_temperature=temperature)))


CANDIDATES = {natural.SILHOUETTE_ROW: natural.in_drawn_silhouette,
              "the row, curves at temperature 1": functools.partial(at_temperature, temperature=1.0),
              "the row, the kind's mean curves (temperature 0)": functools.partial(at_temperature, temperature=0.0)}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, validation=True, incumbent_tolerance=0.05, rule_seeds=2)
