"""How firm is the difference between two rows of a table? A paired bootstrap and a paired permutation test of a
per-class measure's class mean, on the rows' judge features.

Why: a table's row holds a few images per class (nine in the natural world's pooled table), and its FID-like
distance moves by percents with one image: a row that beats another by 2% may owe it to the draw. Re-running
costs a table; resampling the images already made does not. The bootstrap redraws each class's images with
replacement, the *same* positions for both rows (pooled images sit by seed and slot, so a draw keeps a seed's
images paired), and reads an interval of the relative difference. A redrawn set repeats images, which a Fréchet
distance of few images reads as a narrower set — a bias both rows share, but not equally — so the interval is the
bias-corrected percentile one (Efron 1981): its percentiles are moved by how far the draws' median sits from the
difference measured. The permutation test asks whether the rows could be one population: it swaps each
pair of images between the rows at random and counts how often the difference is as large as the one seen. Neither
makes new images: they measure the images' share of the uncertainty, not the optimiser's (a rerun's rounding, a
new seed), which a table measures by pooling seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import norm

Measure = Callable[[Hashable, torch.Tensor], float]


@dataclass(frozen=True)
class Margin:
    """The first row's class mean against the second's, and how firm their difference is."""

    first: float
    second: float
    interval: tuple[float, float]  # the relative difference's bootstrap interval (bias-corrected percentile)
    level: float
    bootstrap_median: float  # the draws' median relative difference: far from ``relative``, a biased bootstrap
    p_value: float  # two-sided, paired permutation: the rows as one population
    draws: int
    permutations: int

    @property
    def relative(self) -> float:
        """(first − second) / second: −0.024 is 2.4% below."""
        return self.first / self.second - 1

    def line(self, name: str = "", digits: int = 0) -> str:
        low, high = self.interval
        return (f"{name}{self.first:.{digits}f} against {self.second:.{digits}f} ({self.relative:+.1%}; "
                f"{self.level:.0%} interval {low:+.1%} to {high:+.1%} from {self.draws} draws, their median "
                f"{self.bootstrap_median:+.1%}; permutation p = {self.p_value:.3f})")


def _class_mean(measure: Measure, sets: Mapping[Hashable, torch.Tensor]) -> float:
    return float(np.mean([measure(kind, feats) for kind, feats in sets.items()]))


def paired_margin(measure: Measure, first: Mapping[Hashable, torch.Tensor], second: Mapping[Hashable, torch.Tensor],
                  *, draws: int = 1000, permutations: int = 1000, level: float = 0.9, seed: int = 0) -> Margin:
    """The class mean of ``measure(kind, features)`` for two rows' features ({kind: (N, D)}, the same kinds and
    counts: image i of a kind in one row is paired with image i in the other), with a paired bootstrap
    interval of their relative difference and a paired permutation test (:class:`Margin`)."""
    if set(first) != set(second) or not first:
        raise ValueError(f"the two rows must measure the same classes, got {sorted(map(str, first))} and "
                         f"{sorted(map(str, second))}")
    counts = {kind: len(first[kind]) for kind in first}
    unequal = [str(k) for k in first if len(second[k]) != counts[k]]
    if unequal or min(counts.values()) < 2:
        raise ValueError(f"paired rows need the same count of at least two images per class; classes "
                         f"{unequal or sorted(map(str, counts))} differ or have fewer")
    for name, value in (("draws", draws), ("permutations", permutations)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), e.g. 0.9, got {level!r}")
    rng = np.random.default_rng(seed)
    observed_first, observed_second = _class_mean(measure, first), _class_mean(measure, second)

    relative = np.empty(draws)
    for d in range(draws):
        picks = {kind: torch.as_tensor(rng.integers(0, n, n)) for kind, n in counts.items()}
        a = _class_mean(measure, {k: first[k][picks[k]] for k in first})
        b = _class_mean(measure, {k: second[k][picks[k]] for k in first})
        relative[d] = a / b - 1
    # bias-corrected percentiles: z0, the normal quantile of the draws' share below the measured difference
    measured = observed_first / observed_second - 1
    below = (np.sum(relative < measured) + 0.5 * np.sum(relative == measured)) / draws
    z0 = norm.ppf(np.clip(below, 0.5 / draws, 1 - 0.5 / draws))
    tail = norm.ppf((1 - level) / 2)
    low, high = np.quantile(relative, norm.cdf([2 * z0 + tail, 2 * z0 - tail]))

    observed = abs(observed_first - observed_second)
    as_large = 0
    for _ in range(permutations):
        swaps = {kind: torch.as_tensor(rng.random(n) < 0.5)[:, None] for kind, n in counts.items()}
        a = _class_mean(measure, {k: torch.where(swaps[k], second[k], first[k]) for k in first})
        b = _class_mean(measure, {k: torch.where(swaps[k], first[k], second[k]) for k in first})
        as_large += abs(a - b) >= observed * (1 - 1e-12)
    return Margin(observed_first, observed_second, (float(low), float(high)), level, float(np.median(relative)),
                  (1 + as_large) / (1 + permutations), draws, permutations)


def each_seed(measure: Measure, sets: Mapping[Hashable, torch.Tensor], per_seed: int) -> list[float]:
    """The class mean of ``measure`` on each seed's images alone: pooled rows hold ``per_seed`` images of each seed
    per class, seed after seed (the order :func:`torch.cat` of the seeds' sets gives)."""
    counts = {len(feats) for feats in sets.values()}
    if len(counts) != 1 or per_seed < 1 or next(iter(counts)) % per_seed:
        raise ValueError(f"every class must hold the same whole number of seeds × {per_seed} images, got counts "
                         f"{sorted(counts)}")
    seeds = next(iter(counts)) // per_seed
    return [_class_mean(measure, {k: v[s * per_seed:(s + 1) * per_seed] for k, v in sets.items()})
            for s in range(seeds)]


__all__ = ["Margin", "Measure", "each_seed", "paired_margin"]
