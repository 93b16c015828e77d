"""Does a sampled deep layout tell the every-block row *where* the object is? An exploration beside the natural
table, not a row of it: it scores the candidates on training composites (the rule the table's choices are made by)
*and* on the held-out ones, so none of it may be used to choose a row.

Why: the every-block row (VITAL's matching at every block plus the capped class evidence) makes photographic
texture with small animals in it, not an object in a scene; the layout rows invert a ``block5`` 2×2 grid drawn from
the kind's Gaussian, which fixes where the object's features are. Here both: the layout, the capped evidence and
every block's distributions (``natural.sampled_layout(layers=every_block)``), on the Fourier image.

    .venv/bin/python scripts/try_layout_with_every_block.py [--seeds 0 1 2]     # ≈ 7 minutes per seed, 2 cores

Measured on 2026-12-04, seed 0. On training composites the rule keeps the every-block row (mean rank 1.17 vs 1.83).
Held out, conf Lite1 / Lite2; FID-like Lite1 / Lite2 / VGG16; VGG16 novelty: every-block row 0.58 / 0.56;
1318 / 1618 / 8544; 0.76 · with the layout 0.38 / 0.45; 1301 / 1627 / 8667; 0.75. Reading: no gain. The layout
moves where the textures sit but does not make a shape a person names (the images look alike), costs confidence,
and leaves VGG16 novelty where it was. The row stays without a layout.
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural

CANDIDATES = {
    natural.EVERY_BLOCK_ROW: natural.ROWS[natural.EVERY_BLOCK_ROW],
    "sampled layout + every block + class evidence": lambda s: natural.sampled_layout(
        s, evidence_weight=s.protocol.evidence_weight, layers=natural.every_block(s.subject)),
}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES)
