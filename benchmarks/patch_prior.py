"""The silhouette row's patch prior per step against a floor that fits its work.

The step: :class:`~stochvis.optvis.regularizers.PatchOutliers` as the row runs it — 15 images of 128 px, each kind's
own 8-component mixture of 6×6 colour patches on its three images (five mixtures, each on 5,043 patches at stride 3),
forward + backward to the images, on one thread as the row's workers run. Forward, one matrix product per mixture
projects every patch on every component's precision root and writes the (patches × components × 108) projections,
which a norm reads; backward, only the *outlier* patches have a gradient (the penalty is zero above the threshold), so
only their rows come back through the product. The floor is the larger of the FLOP floor (the step's FLOPs ÷ the fp32
matmul rate) and the bytes floor (the projections written and read once, and the outlier rows' gradient written and
read once, ÷ the copy bandwidth), both measured in this run. Ratio = measured ÷ floor, for two batches: every patch an
outlier (uniform noise, the worst case and an optimisation's start) and about a third of them (smooth images with
speckled squares, nearer a row under way). Beside it, the speed-up over autograd of the textbook expression
(subtract the means, project, square, sum), timed in the same run, and ``--one-mixture``: all 15 images under one
mixture (25,215 patches at once), where the textbook's elementwise passes no longer stay in cache.

Why it matters, and how little: in the row itself the prior is about a fifth of a step (2026-12-07: 0.20 s of 1.11 s
for the 15 images; the textbook expression 0.25 s), so this speed-up buys the report seconds, not minutes; a second
prior (on the object alone) was declined for its cost (``scripts/try_object_patch_prior.py``).

    .venv/bin/python benchmarks/patch_prior.py [--batch 15] [--size 128] [--kinds 5] [--one-mixture]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import count_flops, matmul_rate, memory_bandwidth, min_time  # noqa: E402

from stochvis.optvis import regularizers as R  # noqa: E402


class TextbookMixture(R.PatchMixture):
    """The reference: the same mixture, its log-likelihood the textbook way — each component's centred projections
    under plain autograd, a gradient for every patch — so that :class:`PatchOutliers` groups and scores the images
    exactly as it does for the real one."""

    def log_likelihood(self, patches: torch.Tensor) -> torch.Tensor:
        flat = patches.reshape(-1, patches.shape[-1])
        k, d = self.means.shape
        chol = self.precision_cholesky
        projected = (flat @ chol.permute(1, 0, 2).reshape(d, k * d)).view(-1, k, d) \
            - torch.einsum("kd,kde->ke", self.means, chol)
        log_det = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        per_component = -0.5 * projected.pow(2).sum(-1) + log_det - 0.5 * d * math.log(2 * math.pi)
        return (torch.logsumexp(per_component + self.log_weights, -1) / d).view(patches.shape[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=15)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--kinds", type=int, default=5, help="mixtures, each on batch ÷ kinds images (the row's)")
    parser.add_argument("--one-mixture", action="store_true", help="one mixture for every image")
    args = parser.parse_args()
    kinds = 1 if args.one_mixture else args.kinds
    if args.batch % kinds:
        parser.error(f"--batch {args.batch} must be a multiple of --kinds {kinds}")
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)

    def smooth(n: int) -> torch.Tensor:  # stand-ins for photographs: the mixture's shape is what costs
        return F.interpolate(torch.rand(n, 3, 16, 16, generator=generator), size=(args.size, args.size),
                             mode="bilinear", align_corners=True)

    mixtures = [R.fit_patch_mixture(smooth(24), max_patches=5000, seed=kind) for kind in range(kinds)]
    per_image = [m for m in mixtures for _ in range(args.batch // kinds)]
    penalty = R.PatchOutliers(1.0, per_image)
    textbook = {id(m): TextbookMixture(**{f.name: getattr(m, f.name) for f in dataclasses.fields(m)}) for m in mixtures}
    textbook_penalty = R.PatchOutliers(1.0, [textbook[id(m)] for m in per_image])
    squares = F.interpolate((torch.rand(args.batch, 1, 8, 8, generator=generator) < 0.2).float(), size=args.size)
    batches = [torch.rand(args.batch, 3, args.size, args.size, generator=generator),  # every patch an outlier
               (smooth(args.batch) + 0.3 * (torch.rand(args.batch, 3, args.size, args.size, generator=generator)
                                            - 0.5) * squares).clamp(0, 1)]  # speckled squares: some
    rate, bandwidth = matmul_rate(), memory_bandwidth()
    k, d = mixtures[0].means.shape
    print(f"PatchOutliers, {args.batch} images of {args.size} px, {kinds} mixture(s) of {k} components × {d}; "
          f"matmul {rate / 1e9:.0f} GFLOP/s, copy {bandwidth / 1e9:.1f} GB/s (one thread)")
    for images in batches:
        with torch.no_grad():
            below = [m.log_likelihood(m.patches(image[None], penalty.stride)) < m.threshold
                     for m, image in zip(per_image, images)]
        patches, share = sum(b.numel() for b in below), float(torch.cat([b.flatten() for b in below]).float().mean())

        def step(images: torch.Tensor = images) -> None:
            x = images.clone().requires_grad_(True)
            penalty(x).sum().backward()

        def textbook_step(images: torch.Tensor = images) -> None:
            x = images.clone().requires_grad_(True)
            textbook_penalty(x).sum().backward()

        flops, moved = count_flops(step), 2 * (1 + share) * patches * k * d * 4
        floor = max(flops / rate, moved / bandwidth)
        seconds, textbook = min_time(step, repeats=5), min_time(textbook_step, repeats=5)
        label = "every patch an outlier" if share == 1 else f"{share:.0%} of patches outliers"
        print(f"{label} ({patches} patches): {flops / 1e9:.2f} GFLOP, {moved / 1e9:.2f} GB; floor {floor * 1e3:.0f} "
              f"ms ({'bytes' if moved / bandwidth > flops / rate else 'FLOPs'}); measured {seconds * 1e3:.0f} ms "
              f"per step, ratio to floor {seconds / floor:.1f}; the textbook expression {textbook * 1e3:.0f} ms "
              f"({textbook / seconds:.1f}x slower)")


if __name__ == "__main__":
    main()
