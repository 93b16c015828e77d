"""Does the silhouette row become more real when each image is asked to be one member of its kind, drawn from the
real composites' own proportions, instead of the kind as a whole? An exploration beside the natural table, not a row
of it: it scores the candidates on *validation* composites (the rule's own split) and, seen but never used to choose,
on the held-out ones.

Why: pooled over three seeds the row misses the goal by one condition, VGG16's FID-like against VITAL's (8.3%), and
per kind that miss is almost all its fruit's (VGG16 FID-like 10983 against VITAL's 8231; its birds and mammals are
nearer the real composites than VITAL's). The fruit's insides are a red-green speckle, and the subject calls two of
its three seed-0 fruit "strawberry": the evidence asked of the row is the kind's log-sum-exp, which an optimisation
reaches through the kind's easiest member in every image. The subject's real fruit composites are each mostly one
member, spread over the set (training composites' top members: orange 16, Granny Smith 14, strawberry 12, lemon
12, ...). ``Setting.drawn_member_evidence``: each image's evidence narrowed to one member, drawn as the top member
of a training composite of its kind drawn at random (so in the real composites' proportions), capped at the mass
the composites whose top it is give it (``stats.member_classes``). The same weight as the row's evidence, on both
views (the whole image and the object alone).

Candidates (5 kinds × 3 images per seed, 128 px, 128 steps, the table's protocol): the row as it is; the same with
the drawn members' evidence.

The rule, fixed here before the run: the rule's own split (statistics of the fit part, scored against validation
composites), the guard at 5%, and the images of two optimisation seeds (0 and 1) pooled per kind. If the drawn
members are chosen, they replace the row's evidence and the pooled table and notebook 09 are rerun before the change
lands (in the next stop if this one has no time left for them); otherwise a negative result.

    .venv/bin/python scripts/try_drawn_members.py [--seeds 0 1]     # ≈ 10 minutes for two seeds, 2 cores

Measured on 2026-12-07, seeds 0 and 1. On validation composites the rule keeps the row (mean realism rank 1.00
against 2.00; the guard refuses the drawn members for Lite2 FID-like +5.3%, VGG16 FID-like +10.4% and VGG16
plausibility −5.3%). Lite1 / Lite2 / VGG16 on validation, the row → drawn members: FID-like 1093 / 1192 / 5446 →
1100 / 1255 / 6014; plausibility 0.535 / 0.597 / 0.467 → 0.534 / 0.584 / 0.442. Held out (seen, never used to
choose; mean ± std over the two seeds): FID-like 1415 / 1733 / 8868 ± 47 → 1455 / 1814 / 9442 ± 638, KID 2.60 / 4.98 /
2835 → 3.13 / 5.90 / 2875, plausibility 0.492 / 0.544 / 0.398 → 0.487 / 0.536 / 0.384, confidence 0.65 / 0.64 →
0.58 / 0.59, novelty 1.00 / 1.00 / 0.90 → 1.04 / 1.02 / 0.95.

Reading: a negative result under every judge. By eye the birds, mammals and bovines are the row's (a member of 59
birds is still a bird's outline filled with feathers), and the fruit are no smoother: smaller objects, red and
speckled still — strawberries and paired cherries where the row had large apples. What the evidence names was not
what makes the speckle; one named member per image only narrows what the image may look like, and the judges count
the loss of the kind's spread. (The row's own numbers here differ from the earlier scripts' by about 1% — held out
VGG16 8868 against 8956 — with the same code and pinned packages: on this session's machine the optimisations go
elsewhere (the VITAL-style row's seed-0 images differ from the committed ones by 14-18 levels of 255 on average, and a
pooled rerun of the table moves each row by 1-3%), while on one machine a rerun reproduces every digit.)
"""

from __future__ import annotations

from stochvis.experiments import explorations, natural


def drawn_members(s: natural.Setting) -> dict:
    """The row with each image's evidence for one member of its kind, drawn from the real composites' proportions."""
    return natural.in_drawn_silhouette(s, evidence=s.protocol.evidence_weight * s.drawn_member_evidence())


CANDIDATES = {natural.SILHOUETTE_ROW: natural.in_drawn_silhouette, "each image one drawn member": drawn_members}

# The row had no patch prior when this ran (before scripts/try_patch_prior.py)
EARLIER_PROTOCOL = {"patch_prior_layers": 0, "object_decoder_detail": None,
                    "backdrop_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], CANDIDATES, validation=True, incumbent_tolerance=0.05, rule_seeds=2,
                      protocol=EARLIER_PROTOCOL)
