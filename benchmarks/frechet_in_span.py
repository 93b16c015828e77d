"""The FID-like distance of a pooled row's nine images of a kind, in the span of the samples, against a floor that
fits its work; beside it the D×D path every table uses.

The work: :meth:`~stochvis.evaluation.metrics.ClassReference.frechet_in_span` as the margin measurement calls it
thousands of times — nine images' features against a kind's 36 held-out composites, at a Lite judge's 1280 dimensions
and at VGG16's 512, in float64 on one BLAS thread: the nine's shrunk covariance (:func:`fit_gaussian`), the span's
basis (an SVD of D × 45), both covariances projected on it, a check on a direction outside it, and a 45 × 45
eigenproblem. The floor is the larger of the FLOP floor (the covariance's 4·N·D² with Ledoit–Wolf's second pass,
two projections' 2·(2·D²·k + 2·D·k²), the SVD's 4·D·k², two probes' 4·D², ÷ the float64 matmul rate) and the bytes
floor (the D×D float64 covariances: the nine's written once and read three times, the reference's read twice, ÷ the
copy bandwidth), both measured in this run. Beside it, :meth:`ClassReference.frechet` (its reference's root taken
once, a D×D eigendecomposition per distance): what the span saves.

    .venv/bin/python benchmarks/frechet_in_span.py [--images 9] [--reference 36]
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import matmul_rate, memory_bandwidth, min_time  # noqa: E402

from stochvis.evaluation import metrics  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9)
    parser.add_argument("--reference", type=int, default=36)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rate, bandwidth = matmul_rate(torch.float64, size=1024), memory_bandwidth()
    print(f"{args.images} images against {args.reference} real ones; float64 matmul {rate / 1e9:.0f} GFLOP/s, "
          f"copy {bandwidth / 1e9:.1f} GB/s (one thread)")
    generator = torch.Generator().manual_seed(0)
    for dim in (1280, 512):
        reference = metrics.ClassReference({0: torch.randn(args.reference, dim, generator=generator).double() * 2},
                                           "pool")
        own = torch.randn(args.images, dim, generator=generator).double() + 0.5
        reference.frechet(0, own)  # the reference's Gaussian and root, once, as a table takes them
        n, k = args.images, args.images + args.reference
        flops = 4 * n * dim**2 + 2 * (2 * dim**2 * k + 2 * dim * k**2) + 4 * dim * k**2 + 4 * dim**2
        moved = 6 * dim**2 * 8
        floor = max(flops / rate, moved / bandwidth)
        span = min_time(functools.partial(reference.frechet_in_span, 0, own), repeats=7)
        full = min_time(functools.partial(reference.frechet, 0, own), repeats=3)
        print(f"D = {dim}: floor {floor * 1e3:.1f} ms ({'bytes' if moved / bandwidth > flops / rate else 'FLOPs'}); "
              f"in the span {span * 1e3:.1f} ms, ratio to floor {span / floor:.1f}; the D×D path {full * 1e3:.0f} ms "
              f"({full / span:.0f}× the span's)")


if __name__ == "__main__":
    main()
