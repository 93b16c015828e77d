"""Does the backdrop gain what the object gained from a deep decoder with Fourier detail? An exploration beside the
natural table, not a row of it: it scores the candidates on *validation* composites (the rule's own split) and, seen
but never used to choose, on the held-out ones.

Why: the silhouette row meets the goal's last condition, VGG16 FID-like below VITAL's, on its pooled point estimate
only (−2.3% ± 3.1%, permutation p = 0.42, ``scripts/measure_margin.py``), and per seed it is above VITAL's in two
seeds of three. Its object, drawn by an untrained deep decoder plus a Fourier image at gain 0.5, lost its speckle and
gained VGG16 realism (−7.3% FID-like on validation, ``scripts/try_deep_decoder_detail_on_four_seeds.py``). Its
backdrop is still a Fourier image alone, and it is the busiest part of the image: three times the fine detail per
pixel of the photographs behind real cut-outs (``scripts/measure_fine_detail.py``). Slowing its spectrum clipped it
(``scripts/try_smoother_backdrop.py``), a photograph's magnitude calmed it and lost VGG16's plausibility
(``scripts/try_calm_backdrop.py``), and a decoder *alone* for both parts made out-of-focus photographs, refused by
the guard (``scripts/try_deep_decoder.py``: VGG16 plausibility −12.7%, textureless). The object's recipe is the
untried one: the decoder for the regions and their shading, the Fourier image at half gain for the grass, snow and
sand grain. Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol): the row as it is (the
incumbent); its backdrop drawn as its object is (:meth:`Setting.class_colour_decoder`: 64 channels at 64 px plus a
Fourier image at 0.5, on the kind's composites' colour basis, where the Fourier backdrop is).

The rule, fixed here before the run: the rule's own split, the guard at 5%, seeds 0 and 1 pooled per kind
(``rule_seeds=2``, as the decoder's first explorations). The decoder backdrop replaces the row's backdrop only if it
has the strictly better mean realism rank and passes the guard; a tie keeps the row and is asked again of four seeds,
as the object's was. If it is chosen, the pooled table and notebook 09 are rerun before the change lands (in the next
stop if this one has no time left for them); otherwise a negative result.

    .venv/bin/python scripts/try_decoder_backdrop.py     # ≈ 20 minutes, 2 cores

Measured on 2026-12-08, seeds 0 and 1. On validation composites **the rule chooses the decoder backdrop**: mean
realism rank 1.33 against 1.67, and the guard passes it. Lite1 / Lite2 / VGG16 on validation, the row → the decoder
backdrop: FID-like 1057 / 1207 / 5390 → 1052 / 1200 / 5420; plausibility 0.534 / 0.579 / 0.460 → 0.537 / 0.596 /
0.443; confidence 0.74 / 0.73 → 0.43 / 0.37 (the training composites' own, scored as a row on this split: 0.32 /
0.42). Held out (seen, never used to choose; mean ± std over the two seeds): FID-like 1320 / 1694 / 8657 ± 63 → 1353
/ 1717 / 8634 ± 232; KID 2.19 / 4.60 / 2746 → 2.39 / 4.44 / 2639; plausibility 0.522 / 0.549 / 0.400 → 0.513 / 0.557
/ 0.390; confidence 0.74 / 0.73 → 0.43 / 0.37; diversity in VGG16's features 73.3 → 82.4 (real composites about 95);
novelty 0.97 / 1.00 / 0.89 → 1.00 / 1.02 / 0.88. About 20 minutes.

Reading: chosen, narrowly — every FID-like margin on validation is under 1%, and the rank is carried by the Lites'
plausibility — and the rule is kept as it was fixed: the backdrop replaces the row's, and the pooled table and
notebook 09 were rerun. Two things move a lot where the realism measures hardly move. The judges' confidence halves:
the capped evidence is asked of the whole image, and a Fourier backdrop could carry some of it as texture outside the
outline, which a decoder's smooth regions cannot; the whole image's mass falls to about the real composites' own
(0.37 against 0.42 on validation), so the goal's confidence bar (0.8 of the real row's) is the condition to watch.
(Measured since on the pooled images, ``scripts/measure_evidence_by_region.py``: the Fourier backdrops alone, the
outline greyed, held a Lite1 / Lite2 mass of 0.24 / 0.28 on the kind's set, the decoder's 0.16 / 0.12.) Pooled over
three seeds the row's VGG16 FID-like went 7526 → 7446 and its confidence 0.59 / 0.61 → 0.51 / 0.56 (bars 0.38).
And the images of a kind spread more in VGG16's features (diversity 73 → 82), towards the real composites' spread.
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural

DETAIL = 0.5  # the object's gain (Protocol.object_decoder_detail), not chosen again

CANDIDATES = {natural.SILHOUETTE_ROW: natural.in_drawn_silhouette,
              "backdrop by a deep decoder with Fourier detail at 0.5":
                  lambda s: natural.in_drawn_silhouette(s, backdrop=s.class_colour_decoder(DETAIL))}

# The row's backdrop was a Fourier image when this ran
EARLIER_PROTOCOL = {"backdrop_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, validation=True, incumbent_tolerance=0.05, rule_seeds=2,
                      protocol=EARLIER_PROTOCOL)
