"""Milliseconds per activation-maximisation step against the floor the hardware allows.

floor = FLOPs of one truncated forward + backward (w.r.t. the image), counted by
torch.utils.flop_counter.FlopCounterMode, ÷ the dense matmul rate measured in this same run (so a
busy machine lowers both). Ratio = measured step time ÷ floor; 1.0 would mean every FLOP ran at
matmul speed. Cases: VGG16 conv4_3 channel (forward stops after conv4_3) and EfficientNet-Lite0
class logit (whole network), at 224², fp32 and bf16 autocast. For bf16 it also reports whether
image quality holds: the fp32 objective of the bf16 run's image vs the fp32 run's, same seed.

    .venv/bin/python benchmarks/am_step.py [--steps 8] [--size 224]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import matmul_rate  # noqa: E402

from stochvis.layers import capture  # noqa: E402
from stochvis.models import load_model  # noqa: E402
from stochvis.optvis import objectives as O
from stochvis.optvis.objectives import evaluate  # noqa: E402
from stochvis.optvis.optimize import optimize  # noqa: E402


def step_flops(model, objective, size: int, bf16: bool) -> float:
    bound = objective.bind(model)
    x = torch.rand(1, 3, size, size, requires_grad=True)
    with FlopCounterMode(display=False) as counter:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            score = bound(capture(model, x, sorted(bound.layers))).float()
        (-score.sum()).backward()
    return float(counter.get_total_flops())


def time_steps(model, objective, size: int, steps: int, bf16: bool) -> tuple[float, torch.Tensor]:
    kwargs = dict(steps=steps, lr=0.01, optimizer="sgd", size=size, seed=0, progress=False, autocast_bf16=bf16)
    optimize(model, objective, **{**kwargs, "steps": 2})  # warm-up (allocator, oneDNN primitives)
    best = float("inf")
    images = None
    for _ in range(2):
        result = optimize(model, objective, **kwargs)
        best = min(best, result.seconds_per_step)
        images = result.images
    return best, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    cases = [
        ("vgg16 conv4_3:0", load_model("vgg16"), O.channel("conv4_3", 0)),
        ("efficientnet_lite0 logit(starfish)", load_model("efficientnet_lite0"), O.class_logit("starfish")),
    ]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.size}², {args.steps} steps (best of 2)")
    rates = {False: matmul_rate(torch.float32), True: matmul_rate(torch.bfloat16)}
    print(f"matmul rate: fp32 {rates[False] / 1e9:.0f} GFLOP/s, bf16 {rates[True] / 1e9:.0f} GFLOP/s")
    print(f"{'case':38s} {'dtype':5s} {'GFLOP':>7s} {'floor ms':>9s} {'ms/step':>8s} {'ratio':>6s}  quality")
    for label, model, objective in cases:
        reference = None
        for bf16 in (False, True):
            flops = step_flops(model, objective, args.size, bf16)
            floor = flops / rates[bf16]
            seconds, images = time_steps(model, objective, args.size, args.steps, bf16)
            score = evaluate(model, objective, images).item()  # always scored in fp32
            if reference is None:
                reference, quality = score, f"fp32 objective {score:.3g}"
            else:
                quality = f"fp32 objective of bf16 image {score:.3g} ({100 * (score / reference - 1):+.1f}%)"
            print(f"{label:38s} {'bf16' if bf16 else 'fp32':5s} {flops / 1e9:7.1f} {1e3 * floor:9.0f} "
                  f"{1e3 * seconds:8.0f} {seconds / floor:6.2f}  {quality}", flush=True)


if __name__ == "__main__":
    main()
