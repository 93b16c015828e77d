"""Forward pass of VGG16 at 224², stopped at conv3_3 / conv4_3 / conv5_3 / full features,
each against its floor (its FLOPs ÷ the fp32 matmul rate measured now).

Shows that the truncated forward saves what it should: time should scale with FLOPs, and each
ratio (time ÷ floor) should stay close to the full pass's.
Usage: python benchmarks/forward.py [--batch 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import count_flops, matmul_rate, min_time  # noqa: E402

from stochvis import layers, models  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = models.load_model("vgg16")
    device = model.device
    images = torch.rand(args.batch, 3, 224, 224, device=device)
    rate = matmul_rate(device=device)
    print(f"device {device}, threads {torch.get_num_threads()}, fp32 matmul rate {rate / 1e9:.0f} GFLOP/s, batch {args.batch}")
    print(f"{'stop at':10s} {'GFLOP':>8s} {'ms':>9s} {'floor ms':>9s} {'ratio':>6s}")
    results = {}
    for layer in ["conv3_3", "conv4_3", "conv5_3", "pool5"]:
        def run(layer=layer):
            with torch.inference_mode():
                return layers.forward_to(model, images, layer)

        flops = count_flops(run)
        seconds = min_time(run, repeats=args.repeats, device=device)
        results[layer] = seconds
        floor = flops / rate
        print(f"{layer:10s} {flops / 1e9:8.1f} {seconds * 1e3:9.1f} {floor * 1e3:9.1f} {seconds / floor:6.2f}")
    full = results["pool5"]
    print("time as a share of the full features pass: " + ", ".join(f"{k} {v / full:.2f}" for k, v in results.items()))


if __name__ == "__main__":
    main()
