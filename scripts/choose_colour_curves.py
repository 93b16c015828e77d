"""Do the pixels' colour statistics, matched as one more layer, make the drawn row more realistic? Every
statistics row's images are near grey: mean colour range (max − min over RGB) 0.11 for the drawn and every-block
rows against 0.29 for the training composites, contrast 0.16 against 0.22. Matching every block of
EfficientNet-Lite0 pins colour only as far as its channels read it. And a judge's deep features read it: VGG16's
pooled conv5_3 of the training composites made grey falls from norm 89 to 62, the synthetic rows' level (56-68).
So the judges' weak deep features of the synthetic rows, the VGG16 novelty bar included, may be partly
missing colour. The remedy from the thesis: the pixels are the shallowest statistics of a class. Each opponent
channel's (luminance, red − green, yellow − blue) sorted values are matched to the kind's training composites'
mean curves (``regularizers.ColourQuantiles``), weighed as one more matched layer (``prior_strength`` / the
number of layers: no new weight to choose).

The rule, fixed here before the run: the table's rule (``explorations.select_on_training``, realism against
*training* composites, seed 0) ranks the table's drawn row against the same row plus the colour curves. If the
colour form ranks first, it enters the table as a row of its own beside the drawn row (so a reader sees what
colour adds). Otherwise it is reported here as a negative result and the table does not change.

    .venv/bin/python scripts/choose_colour_curves.py [--seeds 0 1 2]     # ≈ 10 minutes for 3 seeds, 2 cores

Measured on 2026-12-06. On training composites (seed 0) the two tie, mean realism rank 1.50 each: the colour form
is better under Lite2 (FID-like 1364 vs 1402), worse under Lite1 (1212 vs 1139) and VGG16 (6974 vs 6567). **By the
rule the table does not change.** Held out, means ± std over seeds 0-2 (FID-like; novelty), Lite1 / Lite2 / VGG16:

* the table's drawn row: 1363 ± 51 / 1717 ± 30 / 8641 ± 119; novelty 1.02 / 1.00 / 0.80 ± 0.01; confidence 0.56 / 0.44
* with the colour curves: 1415 ± 54 / 1715 ± 65 / 9162 ± 118; novelty 1.05 / 1.02 / **0.87 ± 0.02**; confidence
  0.51 / 0.52

Reading: the colour term moves the images a third of the way towards the composites' colour (mean colour range
0.107 → 0.143, target 0.29; contrast 0.160 → 0.183) and VGG16's conv5_3 responds as the diagnosis said (mean norm
63.5 → 73.3, novelty 0.80 → 0.87, the largest VGG16 novelty of any matching row), but realism in VGG16's features
falls 6%: colour that sits on textures rather than on objects and backdrops where a photograph puts it. A negative
result for realism, a positive one for the diagnosis (deep-feature strength is partly colour). Its weight was not
varied: the held-out numbers above are seen, and a stronger weight would be a choice made with them.
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural


def candidates(base: natural.Setting) -> dict:
    layers = natural.every_block(base.subject)
    return {"drawn (the table's row)": lambda s: natural.matched_with_evidence(s, layers, drawn=True),
            "drawn + colour curves": lambda s: natural.matched_with_evidence(s, layers, drawn=True, colours=True)}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], candidates)
