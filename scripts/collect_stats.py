"""Collect class statistics over several processes: ``torchrun --nproc_per_node=2 scripts/collect_stats.py``.

Each rank streams its shard (every world_size-th image), then the sufficient statistics are
all-reduced (gloo on CPU, nccl on GPU). ``--check`` makes rank 0 collect the same images in one
process and print the largest difference, which should be ~1e-13 (goal: below 1e-10).

Examples:
    torchrun --nproc_per_node=2 scripts/collect_stats.py --model vgg16 --tuxpaint birds flowers \\
        --layers conv4_3 conv5_3 --size 96 --out statistics/
    torchrun --nproc_per_node=2 scripts/collect_stats.py --model tiny --check
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.distributed as dist

from stochvis import stats as S
from stochvis.models import load_model, wrap_model


def tiny_model():
    """A small random CNN (fixed seed): enough to check the distributed maths in seconds."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU())
    return wrap_model(net, mean=(0.5,) * 3, std=(0.25,) * 3, input_size=(16, 16), name="tiny",
                      aliases={"conv1": "1", "conv2": "4"}, device="cpu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="a stochvis.models name, or 'tiny'")
    parser.add_argument("--tuxpaint", nargs="*", default=[], help="Tux Paint categories (one class each)")
    parser.add_argument("--per-image", type=int, default=2)
    parser.add_argument("--size", type=int, default=None, help="image size (default: the model's)")
    parser.add_argument("--layers", nargs="*", default=None)
    parser.add_argument("--maps", nargs="*", default=[], help="layers whose flattened/projected maps to collect")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--out", type=Path, default=None, help="folder for <class>.safetensors files")
    parser.add_argument("--check", action="store_true", help="rank 0 recomputes in one process and compares")
    args = parser.parse_args()

    cuda = torch.cuda.is_available() and args.model != "tiny"
    dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // dist.get_world_size()))
    device = torch.device("cuda", torch.cuda.current_device()) if cuda else torch.device("cpu")
    if args.model == "tiny":
        model = tiny_model()
        source = (torch.rand(64, 3, 16, 16, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 2)
        layers = args.layers or ["conv1", "conv2"]
    else:
        from stochvis.data import tuxpaint

        model = load_model(args.model, device=device)
        source = tuxpaint(args.tuxpaint or ["birds", "flowers"], per_image=args.per_image,
                          size=args.size or model.input_size[0])
        layers = args.layers or ["conv4_3", "conv5_3"]
    options = dict(maps=args.maps, joint="consecutive", batch_size=args.batch_size, image_size=args.size,
                   progress=rank == 0)
    results = S.collect_classes(model, source, layers, distributed=True, **options)
    if rank == 0:
        for name, stats in results.items():
            print(f"{name}: {stats.count} images over {stats.meta['world_size']} processes; features {stats.keys()}")
            if args.out:
                print("  wrote", stats.save(args.out / f"{model.name}_{name}.safetensors"))
    if args.check and rank == 0:
        single = S.collect_classes(model, source, layers, **options)
        worst = max((getattr(results[c][k], f).cpu() - getattr(single[c][k], f).cpu()).abs().max().item()
                    for c in single for k in single[c].keys() for f in ("mean", "m2", "minimum", "maximum", "histogram"))
        print(f"largest |distributed - single process| over every statistic: {worst:.3e}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
