"""Does a finer deep layout — the whole ``block5`` map, 4×4 positions at 128 px, drawn from the kind's Gaussian — tell
the colour-basis row *where* the object is? An exploration beside the natural table, not a row of it: it scores the
candidates on training composites (the rule the table's choices are made by) *and* on the held-out ones, so none of
it may be used to choose a row.

Why: per-channel distributions say what an image is made of, not where things are, and four times the steps only
match them more closely (``scripts/try_longer_budget.py``). A ``block5`` 2×2 layout under the every-block matching
changed nothing that matters (``scripts/try_layout_with_every_block.py``); in the Fashion world it was the *whole*
map, drawn from the class Gaussian and inverted, that made garments. Here the whole ``block5`` map of each image is
drawn from its kind's Gaussian (192 channels × 16 positions, rectified), inverted with the table's layout weight,
beside the colour-basis row's drawn distributions at every block and its capped evidence.

    .venv/bin/python scripts/try_finer_layout.py [--seeds 0]     # ≈ 10 minutes for seed 0, 2 cores

Measured on 2026-12-06, seed 0. On training composites the rule keeps the colour-basis row (mean realism rank 1.17
against 1.83: the layout is better only on VGG16's FID-like). Held out (seen, never used to choose), without → with
the layout, Lite1 / Lite2 / VGG16: FID-like 1310 / 1671 / 8995 → 1420 / 1731 / 8795; plausibility 0.477 / 0.504 /
0.366 → 0.441 / 0.466 / 0.331; novelty 0.98 / 0.97 / 0.90 → 0.99 / 0.95 / 0.78; confidence 0.65 / 0.60 → 0.49 / 0.41.

Reading: a negative result. The drawn map moves where the textures and parts sit (one bovine reads more as a body
on grass) but makes no object a person names that the row without it lacks, and it costs confidence, the Lites'
realism and VGG16 novelty. A Gaussian of 3072 values fitted to 48-144 composites of objects at random positions
draws a blend of positions, not one object's outline.
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural
from stochvis.stats.collection import collect

LAYER, GRID = "block5", 4


def candidates(base: natural.Setting) -> dict:
    layers = natural.every_block(base.subject)
    layout = {k: collect(base.subject, base.train[k], [LAYER], grid={LAYER: GRID}, pooled=False, class_name=k,
                         progress=False) for k in base.protocol.kinds}

    def with_layout(s: natural.Setting) -> dict:
        return natural.matched_with_evidence(s, layers, drawn=True, param=s.class_colour_fft(),
                                             extra_objective=natural.drawn_layout_loss(s, layout, f"{LAYER}/grid{GRID}"))

    return {natural.DRAWN_COLOUR_ROW: natural.ROWS[natural.DRAWN_COLOUR_ROW],
            f"the same + a drawn {LAYER} {GRID}×{GRID} layout": with_layout}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], candidates)
