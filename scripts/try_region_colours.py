"""Should the silhouette row's object and backdrop each have their own region's colours? An exploration beside the
natural table, not a row of it: it scores the candidates on training composites (the rule the table's choices are
made by) *and* on the held-out ones, so none of it may be used to choose a row.

Why: the kind's colour basis (its training composites' RGB mean and covariance, ``params.measure_colour``) made the
drawn row's chroma as mobile as the kind's photographs have it, and moved its weak condition
(``scripts/choose_colour_basis.py``). In the silhouette row both regions share that basis, though a composite's
colours are two populations: the cut-out's (a bird's, a banana's) and the landscape photograph's behind it. The world
draws them apart (``worlds.natural.composites(part="object" | "backdrop")``, the same draws), so each region's basis
can be measured on its own real pixels: the object's on the kind's *training* cut-outs' pixels (where the cut-out
alone on grey is not grey), the backdrop's on the training photo crops (of no kind: one basis for all).

Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol): the row as it is (the incumbent); its
backdrop on the photographs' basis; its object on the kind's cut-outs' basis and its backdrop on the photographs'.
Same cost as the row.

The rule, fixed here before the run: the table's rule on training composites (mean realism rank) with the guard at
5% (``explorations.choose(incumbent_tolerance=0.05)``). If a candidate is chosen, the row takes its bases and the
pooled table and the report are rerun before it lands; otherwise a negative result.

    .venv/bin/python scripts/try_region_colours.py [--seeds 0]     # ≈ 12 minutes for seed 0, 2 cores

Measured on 2026-12-07, seed 0. On training composites the rule keeps the row (mean realism rank 1.50; the object
on the cut-outs' colours too 2.17, the backdrop alone on the photographs' 2.33), the guard refusing both (VGG16
plausibility −8.3% and −9.0%). The cut-outs' colours raise plausibility under the Lites (0.607 / 0.657 against 0.597
/ 0.635) and lose FID-like under every judge (1178 / 1395 / 7235 against 1124 / 1361 / 7091). **A negative result:
the row does not change.** Held out (seen, never used to choose), the row → the backdrop on the photographs' colours
→ both regions on their own, Lite1 / Lite2 / VGG16: FID-like 1259 / 1617 / 9475 → 1332 / 1684 / 9593 → 1394 / 1764
/ 9716; plausibility 0.498 / 0.535 / 0.387 → 0.482 / 0.512 / 0.345 → 0.488 / 0.540 / 0.325; novelty 0.98 / 0.99 /
0.94 → 1.02 / 0.98 / 0.91 → 1.02 / 1.01 / 0.90; confidence 0.66 / 0.54 → 0.41 / 0.49 → 0.81 / 0.64.

Reading: the eye and the judges disagree here. With the cut-outs' own colours the objects are, by eye, the most
nameable of any candidate so far — a green-and-red parrot, a cat, a fox-like animal, three solid brown bison-like
bovines, red apple-like fruit; about 10 of 15 against the row's 6 or 7 — and the subject's confidence is the
highest of any matching row (0.81 / 0.64). But every judge's FID-like and VGG16's plausibility call the images less
like the training composites, and the rule, fixed before the run, is theirs. Reported, not landed: a row chosen by
eye after its held-out numbers were seen would be a hand-picked one. Whether the goal's clause "objects a person
recognises" should have a pre-registered criterion of its own (a blind count by a person, fixed before the images
are made) is a question for the issue's owners.
"""

from __future__ import annotations

import functools

from stochvis.experiments import explorations, natural
from stochvis.optvis import params as P
from stochvis.worlds import natural as world


def candidates(base: natural.Setting) -> dict:
    p = base.protocol
    crops, _ = world.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed, part="backdrop")
    photos, _ = crops.tensors((p.size, p.size))
    alone_set, _ = world.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed, part="object")
    alone, labels = alone_set.tensors((p.size, p.size))
    photo_basis = P.measure_colour(photos)
    cutout_bases = {k: P.measure_colour(alone[labels == i], world.on_object(alone[labels == i]))
                    for i, k in enumerate(p.kinds)}
    backdrop = functools.partial(P.fft, colour=photo_basis)

    def objects(s: natural.Setting):
        return functools.partial(P.fft, colour=P.ColourStatistics.stack(s.per_image(cutout_bases)))

    return {natural.SILHOUETTE_ROW: functools.partial(natural.in_drawn_silhouette, object_colours="kind"),
            "the same, backdrop on the photographs' colours": functools.partial(natural.in_drawn_silhouette,
                                                                                 backdrop=backdrop, object_colours="kind"),
            "the same, object on the cut-outs' colours too":
                lambda s: natural.in_drawn_silhouette(s, foreground=objects(s), backdrop=backdrop)}


# The row's objects were matched at every block when this ran (before scripts/try_coarser_object_curves.py), and it
# had no patch prior (before scripts/try_patch_prior.py)
EARLIER_PROTOCOL = {"object_curves_from": "stem", "patch_prior_layers": 0, "object_decoder_detail": None,
                    "backdrop_decoder_detail": None}

if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], candidates, incumbent_tolerance=0.05,
                      protocol=EARLIER_PROTOCOL)
