"""moments (split from statistics)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from stochvis.features import find_part

FORMAT_VERSION = 1


# Fixed histogram for percentiles: 800 bins of asinh(x / 1e-3) on [-20, 20], i.e. ~5% relative
# resolution from 0.01 up to ~4e5 in absolute value; fixed edges make histograms add exactly.
HIST_BINS = 800


HIST_SCALE = 1e-3


HIST_LIMIT = 20.0


_FIELDS = ("count", "mean", "m2", "minimum", "maximum", "histogram")


class StatisticsFileError(ValueError):
    """A statistics file that cannot be used: truncated, corrupted, another model, another format."""


@dataclass
class FeatureStats:
    """Count, mean and co-moment matrix M2 = Σ (x − mean)(x − mean)ᵀ of d-vectors, plus ranges.

    ``parts`` lists ``(name, start, stop)`` slices when the vector is a concatenation (joint stats).
    """

    dim: int
    count: int = 0
    mean: torch.Tensor | None = None
    m2: torch.Tensor | None = None
    minimum: torch.Tensor | None = None
    maximum: torch.Tensor | None = None
    histogram: torch.Tensor | None = None
    parts: list[tuple[str, int, int]] = field(default_factory=list)

    # -- accumulation -------------------------------------------------------------------------
    @classmethod
    def of_batch(cls, x: torch.Tensor, parts: list[tuple[str, int, int]] | None = None) -> FeatureStats:
        """Exact statistics of one batch (N, d)."""
        x = x.detach().to(torch.float64).reshape(x.shape[0], -1)
        mean = x.mean(0)
        centred = x - mean
        return cls(x.shape[1], x.shape[0], mean, _comoments(centred), x.amin(0), x.amax(0), _histogram(x),
                   list(parts or []))

    def update(self, x: torch.Tensor) -> FeatureStats:
        """Fold a batch (N, d) in, in place (Chan's update with the batch's exact moments); returns self."""
        x = x.detach().to(torch.float64).reshape(x.shape[0], -1)
        if x.shape[0] == 0:
            return self
        if x.shape[1] != self.dim:
            raise ValueError(f"expected vectors of dimension {self.dim}, got {x.shape[1]}")
        if self.count == 0:
            batch = FeatureStats.of_batch(x, self.parts)
            self.__dict__.update(batch.__dict__)
            return self
        n_batch = x.shape[0]
        batch_mean = x.mean(0)
        centred = x - batch_mean
        total = self.count + n_batch
        delta = batch_mean - self.mean
        if centred.shape[1] > FLOAT32_PRODUCT_ABOVE:
            self.m2.add_(_comoments(centred))
        else:
            self.m2.addmm_(centred.T, centred)
        self.m2.addr_(delta, delta, alpha=self.count * n_batch / total)
        self.mean.add_(delta, alpha=n_batch / total)
        torch.minimum(self.minimum, x.amin(0), out=self.minimum)
        torch.maximum(self.maximum, x.amax(0), out=self.maximum)
        _histogram(x, into=self.histogram)
        self.count = total
        return self

    def merge(self, other: FeatureStats) -> FeatureStats:
        """Chan et al.'s pairwise update: stats(A) ⊕ stats(B) = stats(A ∪ B) up to rounding."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge statistics of dimension {self.dim} and {other.dim}")
        if other.count == 0:
            return self.copy()
        if self.count == 0:
            return other.copy()
        n = self.count + other.count
        delta = other.mean - self.mean
        return FeatureStats(
            self.dim, n,
            self.mean + delta * (other.count / n),
            self.m2 + other.m2 + torch.outer(delta, delta) * (self.count * other.count / n),
            torch.minimum(self.minimum, other.minimum),
            torch.maximum(self.maximum, other.maximum),
            self.histogram + other.histogram,
            list(self.parts),
        )

    def _apply(self, fn) -> FeatureStats:
        tensors = [None if t is None else fn(t) for t in (self.mean, self.m2, self.minimum, self.maximum, self.histogram)]
        return FeatureStats(self.dim, self.count, *tensors, list(self.parts))

    def copy(self) -> FeatureStats:
        return self._apply(torch.clone)

    def to(self, device: torch.device | str) -> FeatureStats:
        return self._apply(lambda t: t.to(device))

    # -- summaries ---------------------------------------------------------------------------
    def _need_data(self) -> None:
        if self.count == 0:
            raise ValueError("no vectors were accumulated")

    def covariance(self, ddof: int = 1) -> torch.Tensor:
        """Sample covariance (ddof=1, like ``np.cov``) or the maximum-likelihood one (ddof=0)."""
        self._need_data()
        if self.count - ddof <= 0:
            raise ValueError(f"covariance with ddof={ddof} needs more than {ddof} vector(s), have {self.count}")
        return self.m2 / (self.count - ddof)

    def std(self, ddof: int = 1) -> torch.Tensor:
        return self.covariance(ddof).diagonal().clamp_min(0).sqrt()

    def quantile(self, q: float | Sequence[float]) -> torch.Tensor:
        """Approximate per-unit quantiles from the fixed histogram, clipped to [min, max].

        Returns (d,) for a scalar q, (len(q), d) otherwise.
        """
        self._need_data()
        qs = torch.as_tensor(q, dtype=torch.float64, device=self.histogram.device).reshape(-1)
        cumulative = self.histogram.cumsum(1)  # (d, bins)
        target = (qs * self.count).clamp(min=1e-9)  # (k,)
        out = []
        width = 2 * HIST_LIMIT / HIST_BINS
        for t in target:
            index = torch.searchsorted(cumulative, t.expand(self.dim, 1).contiguous()).clamp(max=HIST_BINS - 1)
            before = torch.where(index > 0, cumulative.gather(1, (index - 1).clamp(min=0)), torch.zeros_like(t.expand(self.dim, 1)))
            inside = self.histogram.gather(1, index).clamp(min=1e-12)
            fraction = ((t - before) / inside).clamp(0, 1)
            position = -HIST_LIMIT + (index.to(torch.float64) + fraction) * width
            out.append((torch.sinh(position) * HIST_SCALE).squeeze(1))
        values = torch.stack(out).clamp(self.minimum, self.maximum)
        return values[0] if isinstance(q, (int, float)) else values

    def part(self, name: str) -> slice:
        """Slice of one part (a layer's feature) of a joint vector."""
        found = find_part(self.parts, name)
        if found is not None:
            return slice(*found)
        raise KeyError(f"no part {name!r}; parts: {', '.join(p for p, _, _ in self.parts) or 'none (not a joint feature)'}")

    def marginal(self, name: str) -> FeatureStats:
        """Statistics of one part alone (exact: marginals of moments are sub-blocks)."""
        s = self.part(name)
        return FeatureStats(s.stop - s.start, self.count, self.mean[s], self.m2[s, s], self.minimum[s],
                            self.maximum[s], self.histogram[s], [])

    # -- serialisation -----------------------------------------------------------------------
    def tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        self._need_data()
        values = {"count": torch.tensor([self.count], dtype=torch.int64), "mean": self.mean, "m2": self.m2,
                  "minimum": self.minimum, "maximum": self.maximum, "histogram": self.histogram}
        return {f"{prefix}::{k}": v.detach().cpu().contiguous() for k, v in values.items()}

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], prefix: str, parts) -> FeatureStats:
        try:
            get = {k: tensors[f"{prefix}::{k}"] for k in _FIELDS}
        except KeyError as error:
            raise StatisticsFileError(f"the file lacks tensor {error.args[0]!r}: corrupted or not written by stochvis") from error
        mean = get["mean"]
        return cls(mean.shape[0], int(get["count"][0]), mean, get["m2"], get["minimum"], get["maximum"],
                   get["histogram"], [tuple(p) for p in parts])


# Above this many units a batch's co-moment product runs in float32 (then accumulates in float64): for a
# whole-map joint (pool1+pool2, 9408 units) the d²·N product is most of the collection time and float32
# halves it; the batch is centred in float64 first, so the product's relative error stays ~1e-6.
FLOAT32_PRODUCT_ABOVE = 2048


def _comoments(centred: torch.Tensor) -> torch.Tensor:
    """Σ_n c_n c_nᵀ of a centred float64 batch (N, d), as float64."""
    if centred.shape[1] > FLOAT32_PRODUCT_ABOVE:
        narrow = centred.to(torch.float32)
        return (narrow.T @ narrow).to(torch.float64)
    return centred.T @ centred


def _histogram(x: torch.Tensor, into: torch.Tensor | None = None) -> torch.Tensor:
    """Per-unit counts of x (N, d) on the fixed asinh grid, as float64 (so all-reduce can sum),
    added to ``into`` (d, bins) when given."""
    n, d = x.shape
    position = (torch.asinh(x / HIST_SCALE) + HIST_LIMIT) * (HIST_BINS / (2 * HIST_LIMIT))
    index = position.floor_().clamp_(0, HIST_BINS - 1).to(torch.int64)
    flat = (index + torch.arange(d, device=x.device) * HIST_BINS).reshape(-1)
    counts = torch.zeros(d, HIST_BINS, dtype=torch.float64, device=x.device) if into is None else into
    counts.view(-1).index_add_(0, flat, torch.ones(flat.shape, dtype=torch.float64, device=x.device))
    return counts
