"""Benchmark: class statistics cost almost nothing on top of the forward pass, and flat memory.

1. images/s of VGG16 conv5_3 pooled statistics (``stochvis.stats.collect``) vs the plain truncated
   forward to conv5_3 in inference mode (the floor: the statistics cannot be faster). Goal ≥ 0.9×.
2. peak resident memory growth while collecting N = 64 vs N = 512 images (each in a fresh
   process, images generated batch by batch so only the statistics can grow). Goal: flat.

Run: ``.venv/bin/python benchmarks/statistics.py [--size 128] [--images 64] [--device cpu]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import torch

from stochvis import stats as S
from stochvis.layers import forward_to
from stochvis.models import load_model


def random_batches(n: int, batch: int, size: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch):
        yield torch.rand(min(batch, n - start), 3, size, size, generator=generator)


def throughput(model, n: int, batch: int, size: int, repeats: int) -> tuple[float, float]:
    def plain():
        with torch.inference_mode():
            for images in random_batches(n, batch, size):
                forward_to(model, images.to(model.device), "conv5_3")

    def stats():
        S.collect(model, random_batches(n, batch, size), ["conv5_3"], batch_size=batch, progress=False)

    plain()  # warm-up
    stats()
    best = {"plain": float("inf"), "stats": float("inf")}
    for _ in range(repeats):  # interleaved, best of: the machine is shared
        for name, fn in (("plain", plain), ("stats", stats)):
            if model.device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if model.device.type == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - start)
    return n / best["plain"], n / best["stats"]


def status_mb(field: str) -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(n: int, batch: int, size: int, device: str) -> None:
    """Peak RSS growth of one collection: the kernel's high-water mark is reset after warm-up
    (``echo 5 > /proc/self/clear_refs``), so model loading does not hide the collection's peak."""
    model = load_model("vgg16", device=device)
    S.collect(model, random_batches(batch, batch, size), ["conv5_3"], batch_size=batch, progress=False)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    baseline = status_mb("VmRSS")
    stats = S.collect(model, random_batches(n, batch, size, seed=1), ["conv5_3"], batch_size=batch, progress=False)
    print(f"{n} {stats.count} {baseline:.1f} {status_mb('VmHWM'):.1f}")


def update_overhead(model, batch: int, size: int, repeats: int = 5) -> tuple[float, float]:
    """Seconds per batch of the forward alone and of the statistics update alone (on its output):
    a load-insensitive estimate of the ratio, since both are timed on the same activations."""
    images = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)).to(model.device)
    plan = S.make_plan(model, ["conv5_3"], tuple(images.shape[1:]))
    forward, update = float("inf"), float("inf")
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            vectors = plan.vectors(model, images)
            forward = min(forward, time.perf_counter() - start)
            accumulator = S.FeatureStats(vectors["conv5_3/pooled"].shape[1]).update(vectors["conv5_3/pooled"])
            start = time.perf_counter()
            accumulator.update(vectors["conv5_3/pooled"])
            update = min(update, time.perf_counter() - start)
    return forward, update


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default=None)
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.memory_child:
        memory_child(args.memory_child, args.batch, args.size, device)
        return

    model = load_model("vgg16", device=device)
    print(f"VGG16 conv5_3 pooled statistics, {args.size}px, batch {args.batch}, {args.images} images, "
          f"{device}, {torch.get_num_threads()} threads")
    plain, stats = throughput(model, args.images, args.batch, args.size, args.repeats)
    print(f"  plain truncated forward (floor): {plain:7.2f} images/s")
    print(f"  stats.collect                 : {stats:7.2f} images/s   ratio {stats / plain:.3f} (goal >= 0.9)")

    forward, update = update_overhead(model, args.batch, args.size)
    print(f"  per batch of {args.batch}: forward + pooling {forward * 1e3:.1f} ms, statistics update "
          f"{update * 1e3:.2f} ms -> ratio without machine noise {forward / (forward + update):.4f}")

    growth = {}
    for n in (64, 512):
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(n), "--size", str(args.size),
                              "--batch", str(args.batch), "--device", device],
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1].split()
        _, count, baseline, peak = out
        growth[n] = float(peak) - float(baseline)
        print(f"  N = {int(count):4d}: RSS after warm-up {float(baseline):7.1f} MB, peak during collection "
              f"{float(peak):7.1f} MB (+{growth[n]:.1f} MB)")
    print(f"  peak growth N=512 minus N=64: {growth[512] - growth[64]:+.1f} MB (goal: flat, ~0)")

if __name__ == "__main__":
    main()
