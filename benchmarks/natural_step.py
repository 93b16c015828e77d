"""The natural-image table's step against a floor that fits a memory-bound network.

The step: EfficientNet-Lite0 at 128 px, batch 8, the class-set logit (log-sum-exp over ImageNet's bird
classes), forward + backward to the image, through ``optimize``. Lite0's depthwise convolutions do little
arithmetic per byte, so a FLOP floor alone (FLOPs ÷ the fp32 matmul rate) says nothing: here the floor is
the larger of that and the *bytes floor* — every activation written in the forward pass, read back and its
gradient written in the backward pass (3 × the bytes of every leaf module's output), ÷ the memory
bandwidth of a large copy measured in this same run. Ratio = measured ÷ floor; fp32 and bf16 autocast.

    .venv/bin/python benchmarks/natural_step.py [--steps 6] [--batch 8] [--size 128]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import count_flops, matmul_rate, memory_bandwidth  # noqa: E402

from stochvis.layers import capture  # noqa: E402
from stochvis.models import load_model  # noqa: E402
from stochvis.optvis import objectives as O  # noqa: E402
from stochvis.optvis.optimize import optimize  # noqa: E402
from stochvis.worlds.natural import class_indices  # noqa: E402


def activation_bytes(model, x: torch.Tensor) -> int:
    """Bytes of every leaf module's output in one forward pass."""
    total = [0]
    handles = [m.register_forward_hook(lambda _m, _i, out: total.__setitem__(0, total[0] + out.numel() * out.element_size()))
               for m in model.net.modules() if not list(m.children())]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return total[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    args = parser.parse_args()
    model = load_model("efficientnet_lite0")
    objective = O.class_set_logit(class_indices("birds", model.classes))
    x = torch.rand(args.batch, 3, args.size, args.size)
    bound = objective.bind(model)

    def step() -> None:
        image = x.clone().requires_grad_(True)
        (-bound(capture(model, image, sorted(bound.layers))).sum()).backward()

    flops = count_flops(step)
    moved = 3 * activation_bytes(model, x)
    rate, bandwidth = matmul_rate(), memory_bandwidth()
    floor = max(flops / rate, moved / bandwidth)
    print(f"Lite0 {args.size} px batch {args.batch}: {flops / 1e9:.2f} GFLOP, {moved / 1e9:.2f} GB moved; "
          f"matmul {rate / 1e9:.0f} GFLOP/s, copy {bandwidth / 1e9:.1f} GB/s; floor {floor * 1e3:.0f} ms "
          f"({'bytes' if moved / bandwidth > flops / rate else 'FLOPs'})")
    results = {}
    for label, bf16 in (("fp32", False), ("bf16 autocast", True)):
        kwargs = dict(steps=args.steps, lr=0.05, size=args.size, batch=args.batch, seed=0, progress=False,
                      autocast_bf16=bf16)
        optimize(model, objective, **{**kwargs, "steps": 2})  # warm-up
        result = optimize(model, objective, **kwargs)
        results[label] = result
        print(f"{label:14s} {result.seconds_per_step * 1e3:7.0f} ms/step  ({result.seconds_per_step / args.batch * 1e3:5.1f}"
              f" ms per image-step)  ratio to floor {result.seconds_per_step / floor:5.1f}")
    fp32, bf16 = results["fp32"], results["bf16 autocast"]
    print(f"bf16 speed-up {fp32.seconds_per_step / bf16.seconds_per_step:.2f}x; final objective fp32 "
          f"{float(fp32.final_scores.mean()):.2f} vs bf16 {float(bf16.final_scores.mean()):.2f}")


if __name__ == "__main__":
    main()
