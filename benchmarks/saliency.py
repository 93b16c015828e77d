"""Saliency overhead: each gradient method vs a plain forward+backward on the same target.

    python benchmarks/saliency.py [--batch 16] [--size 224] [--repeats 2] [--smoothgrad-n 2]

The floor is bare torch: VGG16's features up to conv5_3 (a ``Sequential`` slice), the channel mean
summed, ``torch.autograd.grad`` w.r.t. the images. Each method goes through
``stochvis.attribution.gradient`` (target validation, truncated forward via hooks, captum, rerouted
ReLUs). Measurements are interleaved (floor, then each method, per repeat) and the minimum of the
repeats is kept, so load from other processes hurts every column alike. Goal: ratio ≤ 1.1 for
vanilla, guided and deconvnet. SmoothGrad's ratio is reported per noisy sample.
"""

from __future__ import annotations

import argparse
import time

import torch

from stochvis import attribution
from stochvis.models import load_model

LAYER, CHANNEL = "conv5_3", 42


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats after one warm-up (min is kept)")
    parser.add_argument("--smoothgrad-n", type=int, default=2, help="noisy samples for SmoothGrad (0 skips it)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model = load_model("vgg16")
    images = torch.rand(args.batch, 3, args.size, args.size, generator=torch.Generator().manual_seed(0)).to(model.device)
    path = model.resolve(LAYER)  # "features.29": the ReLU after conv5_3
    head = model.net.features[: int(path.split(".")[1]) + 1]

    def floor() -> None:
        x = images.clone().requires_grad_(True)
        score = head(model.normalize(x))[:, CHANNEL].mean((1, 2)).sum()
        torch.autograd.grad(score, x)

    methods = {m: (lambda m=m: attribution.gradient(model, images, (LAYER, CHANNEL), m))
               for m in ("vanilla", "guided", "deconvnet", "input_x_gradient")}
    if args.smoothgrad_n:
        methods["smoothgrad"] = lambda: attribution.gradient(model, images, (LAYER, CHANNEL), "smoothgrad",
                                                           n=args.smoothgrad_n, seed=0, max_batch=args.batch)
    per_pass = {"smoothgrad": args.smoothgrad_n or 1}
    best = {name: float("inf") for name in ["floor", *methods]}
    print(f"VGG16 to {LAYER}, batch {args.batch} at {args.size}², {torch.get_num_threads()} threads, "
          f"device {model.device}; {args.repeats} repeats after a warm-up")
    for repeat in range(args.repeats + 1):
        for name, fn in [("floor", floor), *methods.items()]:
            seconds = timed(fn)
            if repeat > 0:
                best[name] = min(best[name], seconds)
        if repeat > 0:
            print(f"  repeat {repeat}: floor {best['floor']:.2f} s")
    print(f"\n{'method':18s} {'seconds':>8s} {'ratio':>7s}")
    print(f"{'forward+backward':18s} {best['floor']:8.2f} {1.0:7.3f}")
    for name in methods:
        ratio = best[name] / per_pass.get(name, 1) / best["floor"]
        note = f" (per sample, n={per_pass[name]})" if name in per_pass else ""
        goal = "  ok" if name in ("vanilla", "guided", "deconvnet") and ratio <= 1.1 else (
            "  over 1.1" if name in ("vanilla", "guided", "deconvnet") else "")
        print(f"{name:18s} {best[name]:8.2f} {ratio:7.3f}{note}{goal}")


if __name__ == "__main__":
    main()
