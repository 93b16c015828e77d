"""Statistics of the object and of the backdrop apart: does matching each region to its own distributions make
the natural table's images more like real composites? An exploration beside the table, not a row of it: it scores
the candidates on training composites (the rule the table's choices are made by) *and* on the held-out ones, so
none of it may be used to choose a row.

Why: every matching row so far matches the *whole* composite's channel distributions, in which the cut-out and
the landscape photo behind it are mixed; a matched image may put object texture in the background and photo
texture on the object and still match. The world can draw each training composite's two layers apart
(``stochvis.worlds.natural.composites(part="object" | "backdrop")``: the cut-out alone on mid-grey, the photo crop
alone), so the subject's quantile curves of each are measured. The image is a cut-out parameterisation whose
backdrop has the training composites' spectrum (``Setting.photo_cutout``), seen by the subject three ways in one
batch: the composite (matched to the whole composites' curves, VITAL's term), the object on mid-grey (matched to
the objects' curves, which also say how much of the canvas an object fills) and the backdrop alone (matched to the
photo crops' curves), plus the capped class evidence on the composite and on the object (each capped at the
subject's mass on its real counterpart). Three forwards per step.

Candidates (5 kinds × 3 images, 128 px, 128 steps, the table's protocol): VITAL-style; the five layers plus the
evidence on the photo-spectrum cut-out (``scripts/try_quantiles_with_evidence.py``'s best); the two regions with
and without the whole composite's term (without it the subject never sees the composite).

    .venv/bin/python scripts/try_two_regions.py [--seeds 0 1 2]     # ≈ 13 minutes per seed, 2 cores

Measured on 2026-12-04, seed 0. On training composites the rule picks the photo-spectrum cut-out (mean rank
1.33; VITAL 1.83, two regions + whole 2.83, apart 4.00). Held out, conf Lite1 / Lite2; FID-like Lite1 / Lite2 /
VGG16; plausibility VGG16: VITAL 0.34 / 0.28; 1500 / 1714 / 8828; 0.403 · photo cut-out 0.67 / 0.60;
1351 / 1717 / 8826; 0.376 · two regions + whole 0.37 / 0.33; 1486 / 1802 / 9631; 0.266 · apart 0.03 / 0.02;
1506 / 1852 / 9947; 0.187. The subject's mass on the objects alone is about its mass on the composites (birds
0.85 / 0.85, mammals 0.62 / 0.57, bovines 0.54 / 0.30, fruit 0.50 / 0.54, vehicles 0.51 / 0.52).

Reading: a negative result. Matching the regions apart makes every realism measure worse under every judge. In the
images the backdrop, pushed to hold a photograph's channel distributions on its own, becomes a saturated
many-coloured texture (the phase-only backdrop can reach the photos' activations, not their calm colours), and
the objects shrink to small figures. Apart (the composite never seen by the subject) the evidence on the object on
grey does not carry to the composite (confidence 0.03). The whole composite's distributions, with object and
backdrop mixed as in real composites, remain the better target.
"""

from __future__ import annotations

import torch

from stochvis.evaluation import metrics
from stochvis.experiments import explorations, natural
from stochvis.methods import distribution_matching as DM
from stochvis.optvis import objectives as O
from stochvis.optvis import params as P
from stochvis.stats.quantiles import collect_quantiles
from stochvis.worlds import natural as world

GREY = world.OBJECT_GREY[0] / 255
VIEWS = ("composite", "object", "backdrop")


class RegionViews(P.ImageParam):
    """A cut-out's images seen ``views`` ways, view-major in one batch: the composite, the object alone on
    the world's mid-grey, the backdrop alone. The optimised images are the composites (the first block)."""

    def __init__(self, cutout: P.CutoutParam, views: tuple[str, ...]) -> None:
        super().__init__()
        self.cutout, self.views = cutout, views
        self.batch, self.size, self.channels = len(views) * cutout.batch, cutout.size, cutout.channels

    def forward(self) -> torch.Tensor:
        mask, foreground, backdrop = self.cutout.mask(), self.cutout.foreground(), self.cutout.backdrop_image()
        made = {"composite": mask * foreground + (1 - mask) * backdrop,
                "object": mask * foreground + (1 - mask) * GREY, "backdrop": backdrop}
        return torch.cat([made[v] for v in self.views])

    def composites(self) -> torch.Tensor:
        with torch.no_grad():
            mask = self.cutout.mask()
            return (mask * self.cutout.foreground() + (1 - mask) * self.cutout.backdrop_image()).clamp(0, 1).cpu()


def region_statistics(s: natural.Setting) -> dict:
    """The subject's quantile curves of the training composites' objects (per kind) and backdrops (all kinds
    pooled: the photos do not depend on the kind), and its mass on the objects alone (the object view's cap)."""
    p = s.protocol

    def training(part: str) -> tuple[torch.Tensor, torch.Tensor]:
        return world.split(p.kinds, size=p.size, per_object=p.per_object, seed=p.split_seed,
                           part=part)[0].tensors((p.size, p.size))

    def curves(images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {layer: q.curves for layer, q in collect_quantiles(
            s.subject, images, list(natural.MATCH_LAYERS), quantiles=p.quantiles).items()}

    objects, labels = training("object")
    by_kind = {kind: objects[labels == i] for i, kind in enumerate(p.kinds)}
    return {"object": {kind: curves(mine) for kind, mine in by_kind.items()},
            "object_mass": {kind: float(metrics.class_set_mass(s.subject, mine, s.sets[kind]).mean())
                            for kind, mine in by_kind.items()},
            "backdrop": curves(training("backdrop")[0])}


def two_regions(s: natural.Setting, regions: dict, views: tuple[str, ...] = VIEWS) -> dict[str, torch.Tensor]:
    p = s.protocol
    n = len(p.targets())
    regional = {"object": [regions["object"][k] for k in p.kinds], "backdrop": [regions["backdrop"]] * len(p.kinds)}
    per_view = [s.curve_targets(natural.MATCH_LAYERS) if v == "composite" else
                DM.class_targets(regional[v], per_class=p.samples) for v in views]
    targets = {layer: torch.cat([t[layer] for t in per_view]) for layer in natural.MATCH_LAYERS}
    evidence = 0
    for i, view in enumerate(views):
        caps = {"composite": s.statistics.real_mass, "object": regions["object_mass"]}.get(view)
        if caps is not None:
            term = O.class_set_evidence(s.per_image(s.sets), s.per_image(caps))
            evidence = evidence + O.on_rows(term, i * n, (i + 1) * n)
    cutout = s.photo_cutout()(batch=n, size=p.size, seed=p.seed)
    param = RegionViews(cutout, views)
    run = DM.match_distributions(s.subject, targets, extra_objective=p.evidence_weight * evidence,
                                 strength=p.prior_strength, param=param,
                                 **{**s.common(), "batch": len(views) * n})
    return s.split(run.param.composites())


def candidates(base: natural.Setting) -> dict:
    regions = region_statistics(base)
    print("subject's mass on training objects alone vs composites:",
          {k: f"{regions['object_mass'][k]:.2f} vs {base.statistics.real_mass[k]:.2f}" for k in base.protocol.kinds})
    return {natural.VITAL: natural.vital_style,
            "five layers + evidence, photo-spectrum cut-out":
                lambda s: natural.matched_with_evidence(s, param=s.photo_cutout()),
            "two regions + whole (3 views)": lambda s: two_regions(s, regions),
            "two regions apart (2 views)": lambda s: two_regions(s, regions, ("object", "backdrop"))}


if __name__ == "__main__":
    explorations.main(__doc__.split("\n\n")[0], candidates,
                      longest_first=("two regions + whole (3 views)", "two regions apart (2 views)"))
