"""The silhouette row's patch prior per step against a floor that fits its work.

The step: :class:`~stochvis.optvis.regularizers.PatchOutliers` on a batch of the row's size (15 images, 128 px), 6×6
colour patches at stride 3 under an 8-component mixture, forward + backward to the images, on one thread as the row's
workers run. Its one matrix product (every patch against every component's precision root) is small beside the
(patches × components × 108) tensor it writes, whose squares are summed and whose gradient comes back: so the floor is
the larger of the FLOP floor (FLOPs ÷ the fp32 matmul rate) and the bytes floor (that tensor written and read once
forward, its gradient written and read once backward: 4 × its bytes, ÷ the copy bandwidth), both measured in this
run. Ratio = measured ÷ floor. Why it matters: the prior is a third of the row's seconds per image, and a second one
(on the object alone) was declined for its cost (``scripts/try_object_patch_prior.py``).

    .venv/bin/python benchmarks/patch_prior.py [--batch 15] [--size 128]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import count_flops, matmul_rate, memory_bandwidth, min_time  # noqa: E402

from stochvis.optvis import regularizers as R  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=15)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    photos = F.interpolate(torch.rand(24, 3, 16, 16, generator=generator), size=(args.size, args.size),
                           mode="bilinear", align_corners=True)  # smooth stand-ins: the mixture's shape is what costs
    mixture = R.fit_patch_mixture(photos, max_patches=5000)
    penalty = R.PatchOutliers(1.0, mixture)
    images = torch.rand(args.batch, 3, args.size, args.size, generator=generator)

    def step() -> None:
        x = images.clone().requires_grad_(True)
        penalty(x).sum().backward()

    patches = R.image_patches(images, mixture.size, penalty.stride).shape[1] * args.batch
    k, d = mixture.means.shape
    flops, moved = count_flops(step), 4 * patches * k * d * 4
    rate, bandwidth = matmul_rate(), memory_bandwidth()
    floor = max(flops / rate, moved / bandwidth)
    seconds = min_time(step, repeats=5)
    print(f"PatchOutliers, {args.batch} images of {args.size} px ({patches} patches × {k} components × {d}): "
          f"{flops / 1e9:.2f} GFLOP, {moved / 1e9:.2f} GB moved; matmul {rate / 1e9:.0f} GFLOP/s, copy "
          f"{bandwidth / 1e9:.1f} GB/s (one thread); floor {floor * 1e3:.0f} ms "
          f"({'bytes' if moved / bandwidth > flops / rate else 'FLOPs'})")
    print(f"measured {seconds * 1e3:.0f} ms per step ({seconds / args.batch * 1e3:.1f} ms per image-step); "
          f"ratio to floor {seconds / floor:.1f}")


if __name__ == "__main__":
    main()
