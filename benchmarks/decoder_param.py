"""The silhouette row's object parameterisation per step against a floor that fits its work.

The step: :class:`~stochvis.optvis.decoder_param.DecoderParam` as the row builds it — 15 images of 128 px, each its own
deep decoder of 64 channels from an 8×8 code to 64 px (three layers: a batched 1×1 convolution, a bilinear ×2, a
ReLU, a per-channel normalisation), bilinearly to 128 px, plus a Fourier image at gain 0.5 for the texture — forward
and backward to its parameters, on one thread as the row's workers run. The floor is the larger of the FLOP floor
(the step's FLOPs ÷ the fp32 matmul rate) and the bytes floor: every layer's activations at their upsampled size
written once by the upsampling, read and written by the normalisation, read by the next product, and as much again
backward (8 passes of N × 64 × side² floats per layer), ÷ the copy bandwidth, both measured in this run. Beside it, the
Fourier image the row's object was before (:class:`~stochvis.optvis.params.FFTParam`) timed in the same run: what the
decoder adds to a step.

Why it matters, and how little: the row's step is about 1.1 s for its 15 images on one thread (the subject's two
views, the matching, the patch prior), so the decoder's tenth of a second is a few percent of it.

    .venv/bin/python benchmarks/decoder_param.py [--batch 15] [--size 128] [--width 64]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import count_flops, matmul_rate, memory_bandwidth, min_time  # noqa: E402

from stochvis.optvis import params as P  # noqa: E402
from stochvis.optvis.decoder_param import deep_decoder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=15)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    decoder = deep_decoder(args.batch, args.size, width=args.width, resolution=args.size // 2, detail=0.5)
    fourier = P.fft(args.batch, args.size)

    def step(param: torch.nn.Module) -> None:
        param.zero_grad(set_to_none=True)
        param().square().sum().backward()

    rate, bandwidth = matmul_rate(), memory_bandwidth()
    sides = [decoder.code.shape[-1] * 2 ** (i + 1) for i in range(len(decoder.weights))]
    moved = 8 * sum(args.batch * args.width * side * side * 4 for side in sides)
    flops = count_flops(lambda: step(decoder))
    floor = max(flops / rate, moved / bandwidth)
    seconds, plain = min_time(lambda: step(decoder), repeats=5), min_time(lambda: step(fourier), repeats=5)
    print(f"deep decoder + Fourier detail, {args.batch} images of {args.size} px, {args.width} channels to "
          f"{args.size // 2} px; matmul {rate / 1e9:.0f} GFLOP/s, copy {bandwidth / 1e9:.1f} GB/s (one thread)")
    print(f"{flops / 1e9:.2f} GFLOP, {moved / 1e9:.2f} GB; floor {floor * 1e3:.0f} ms "
          f"({'bytes' if moved / bandwidth > flops / rate else 'FLOPs'}); measured {seconds * 1e3:.0f} ms per step, "
          f"ratio to floor {seconds / floor:.1f}; the Fourier image alone {plain * 1e3:.0f} ms "
          f"(the decoder adds {(seconds - plain) * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
