"""The deep decoder with Fourier detail against the silhouette row, on four seeds: a tie on two settled by more images?
An exploration beside the natural table, not a row of it: it scores the candidates on *validation* composites (the
rule's own split) and, seen but never used to choose, on the held-out ones.

Why: in ``scripts/try_deep_decoder_with_detail.py`` (seeds 0 and 1 pooled) the rule ranked the row and its object
drawn by a deep decoder plus a Fourier image at gain 0.5 equal (mean realism rank 2.17 each), and a tie keeps the
incumbent: the rule could not tell them apart on six images per kind. (The same run's gain 0.25 ranked first and was
refused by the guard, VGG16 plausibility −7.0% on validation; it is not a candidate here.) A tie is a question the
rule's own data have not answered, so this asks it again of more of them, and of nothing else: the same two
candidates, the same rule, the same validation split, on the images of four optimisation seeds (0-3) pooled per kind,
twelve per kind instead of six. Seeds 0 and 1 are the earlier run's images again (the same machine reproduces them).

The rule, fixed here before the run: the rule's own split, the guard at 5%, seeds 0-3 pooled per kind
(``rule_seeds=4``). The decoder with detail replaces the row's object only if it has the strictly better mean realism
rank and passes the guard; a tie again keeps the row. If it is chosen, the pooled table and notebook 09 are rerun
before the change lands (in the next stop if this one has no time left for them); otherwise a negative result.

    .venv/bin/python scripts/try_deep_decoder_detail_on_four_seeds.py     # ≈ 30 minutes, 2 cores
"""

from __future__ import annotations

from try_deep_decoder import object_decoded

from stochvis.experiments import explorations, natural

CANDIDATES = {natural.SILHOUETTE_ROW: natural.in_drawn_silhouette,
              "object by a deep decoder with Fourier detail at 0.5": object_decoded(64, 2, detail=0.5)}

# The row's object was a Fourier image when this ran (before scripts/try_deep_decoder_detail_on_four_seeds.py)
EARLIER_PROTOCOL = {"object_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, validation=True, incumbent_tolerance=0.05, rule_seeds=4,
                      protocol=EARLIER_PROTOCOL)
