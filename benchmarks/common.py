"""Shared measuring tools for the benchmarks: a matmul-rate floor and a robust timer.

Every benchmark reports a ratio against a floor measured in the same run (FLOPs of the work ÷ the
fp32 matmul rate this machine reaches now), so numbers stay comparable on a shared, noisy machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode


def matmul_rate(dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 5,
                device: torch.device | str = "cpu") -> float:
    """Best observed FLOP/s of a square matmul: the machine's practical peak for dense work."""
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    best = min_time(lambda: a @ b, repeats=repeats, device=device)
    return 2 * size**3 / best


def min_time(fn: Callable[[], object], *, repeats: int = 3, warmup: int = 1, device: torch.device | str = "cpu") -> float:
    """Minimum wall time of ``fn`` over ``repeats`` runs (the least disturbed by other load)."""
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def memory_bandwidth(megabytes: int = 256) -> float:
    """Bytes per second of a large tensor copy (read + write): the floor of memory-bound work."""
    source = torch.empty(megabytes * 2**20 // 4, dtype=torch.float32).uniform_()
    target = torch.empty_like(source)
    return 2 * source.numel() * 4 / min_time(lambda: target.copy_(source), repeats=5)


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs torch's flop counter attributes to ``fn`` (convolutions and matmuls)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()
