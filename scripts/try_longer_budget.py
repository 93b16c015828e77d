"""Is the drawn row's gap to recognisable objects a matter of budget or of method? An exploration beside the natural
table, not a row of it: it scores the candidates on training composites (the rule the table's choices are made by)
*and* on the held-out ones, so none of it may be used to choose a row.

Why: every row but MACO gets 128 steps at 128 px, what fits ``make report`` on two cores; VITAL's paper runs 2000
steps at 224 px. If four times the steps made the images read as objects, the report's images would be limited by
this machine, not by the statistics; if the images at 512 steps look as they do at 128, more compute is not the
answer. Candidates: the table's drawn row on the kind's colour basis at 128 steps, and the same at 512 (the same
targets, seeds and step size: only the length of the run changes).

    .venv/bin/python scripts/try_longer_budget.py [--seeds 0]     # ≈ 12 minutes for seed 0, 2 cores

Measured on 2026-12-06, seed 0 (the 128-step candidate reproduces the table's row to every digit). On training
composites 512 steps rank first (mean rank 1.33 against 1.67: better under the Lites, worse in VGG16's features).
Held out (seen, never used to choose), 128 → 512 steps, Lite1 / Lite2 / VGG16: FID-like 1310 / 1671 / 8995 →
1313 / 1676 / 9774; plausibility 0.477 / 0.504 / 0.366 → 0.482 / 0.505 / 0.344; novelty 0.98 / 0.97 / 0.90 →
0.97 / 0.94 / 0.96; confidence 0.65 / 0.60 → 0.47 / 0.49.

Reading: four times the steps do not make objects. Each image keeps the composition it had at 128 steps (the same
animal on the same snow, the same fruit among the same leaves); what the extra steps add is contrast and saturation,
which VGG16's features read as less real (FID-like +8.7%) and the subject as less of the kind. So at 128 px the
images are limited by what the targets ask for, not by the budget: per-channel distributions say what an image is
made of, not where things are, and more steps only match them more closely.
"""

from __future__ import annotations

import dataclasses

from stochvis.experiments import explorations, natural

LONGER = 512


def candidates(base: natural.Setting) -> dict:
    row = natural.ROWS[natural.DRAWN_COLOUR_ROW]

    def longer(s: natural.Setting) -> dict:
        return row(dataclasses.replace(s, protocol=dataclasses.replace(s.protocol, steps=LONGER)))

    return {f"{natural.DRAWN_COLOUR_ROW}, {base.protocol.steps} steps": row, f"the same, {LONGER} steps": longer}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], candidates, longest_first=(f"the same, {LONGER} steps",))
