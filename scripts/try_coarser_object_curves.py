"""Is the silhouette row's speckle the objects' fine-grained curves? An exploration beside the natural table, not a
row of it: it scores the candidates under the rule's own split (validation composites) *and* on the held-out
composites, so none of its held-out numbers may be used to choose a row.

Why: the row's one miss is realism in VGG16's features against VITAL's, and per kind the pooled table puts that
deficit in its fruit (VGG16 KID 3734 against VITAL's 2845, FID-like 10533 against 8231): large red objects full of
speckle and a dark hole, where real fruit are smoothly shaded. The object alone on grey is matched to the curves
of the kind's real cut-outs alone on grey at *every* block (``TrainingStatistics.object_curves``), the stem and
the first blocks included — the layers that read the finest grain, at 1/2 and 1/4 of the image. A cut-out pasted at
128 px is a sharp, detailed photograph, and its fine-grain curves may ask the object for more grain than a Fourier
image can give without speckle. Dropping the objects' curves altogether (``scripts/try_object_without_evidence.py``,
``scripts/try_cutout_statistics_on_validation.py``) left the object no distributions of its own; this keeps the
coarser ones. The whole image keeps its curves at every block, as real composites are measured.

Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol, statistics of the fit part): the row as it
is (the incumbent); the object matched to its kind's cut-outs' curves from ``block2`` on (stem, block0 and block1
dropped: 1/8 of the image and coarser); the same from ``block3`` on (1/16 and coarser). Same views and cost.

The rule, fixed here before the run: the table's rule against the *validation* composites (the rule's own split,
``explorations.main(validation=True)``), the guard at 5%. If a challenger is chosen, the row's object curves start
where it says, and the pooled table and the report are rerun before the change lands; otherwise a negative result.

    .venv/bin/python scripts/try_coarser_object_curves.py [--seeds 0]     # ≈ 15 minutes for seed 0, 2 cores
"""

from __future__ import annotations

import dataclasses

from stochvis.experiments import explorations, natural

FINE = {"from block2": ("stem", "block0", "block1"), "from block3": ("stem", "block0", "block1", "block2")}


def object_curves_without(dropped: tuple[str, ...]):
    """The row with its objects' curves at every block but ``dropped``: the same Setting, those layers left out of
    :attr:`TrainingStatistics.object_curves` only (the whole image's targets keep every block)."""
    def row(s: natural.Setting):
        kept = {k: {layer: c for layer, c in by_layer.items() if layer not in dropped}
                for k, by_layer in s.statistics.object_curves.items()}
        return natural.in_drawn_silhouette(
            dataclasses.replace(s, statistics=dataclasses.replace(s.statistics, object_curves=kept)))
    return row


CANDIDATES = {natural.SILHOUETTE_ROW: natural.ROWS[natural.SILHOUETTE_ROW],
              **{f"the same, object's curves {start}": object_curves_without(dropped) for start, dropped in FINE.items()}}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, incumbent_tolerance=0.05, validation=True,
                      longest_first=list(CANDIDATES)[:2])
