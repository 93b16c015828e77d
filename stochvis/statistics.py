"""Class-conditional activation statistics: streamed once, mergeable, saved safely, density models.

Why sufficient statistics and not stored activations: a class of a few thousand images at
conv3_3 is gigabytes of activations, but its count, mean and co-moment matrix are a few MB, and
two partial results (two shards, two machines, yesterday's run and today's) merge *exactly*
with Chan et al.'s parallel update. Everything is accumulated in float64.

What is accumulated, per layer (one :class:`FeatureStats` per *feature*):

* ``"<layer>/pooled"`` — the spatial mean of every channel (a C-vector per image);
* ``"<layer>/map"`` — the flattened map when it has at most ``full_dim_limit`` values, else its
  projection on a fixed seeded Gaussian random basis (``projection_dim`` columns; the basis is
  regenerated from its seed and checked by hash, never stored);
* ``"<a>+<b>"`` — the concatenation of two features (joint statistics of layers k and k+1), whose
  ``parts`` record each layer's slice, so that p(layer k | layer k+1) is a Schur complement away;
* per-unit ranges: min, max, a fixed histogram on an asinh grid (mergeable, gives approximate
  percentiles to ~5% relative precision) and mean + 3 std (the bound a generator prior clips to).

Density models have scikit-learn's face (``fit`` / ``sample`` / ``score_samples``) and are built
*from the sufficient statistics* when the maths allows, so they work from a saved file without
the images: :class:`GaussianDensity` (shrinkage: OAS, which needs only the covariance and N —
Ledoit-Wolf needs fourth moments, so it is offered only when fitting raw vectors),
:class:`PPCADensity` (Tipping & Bishop's closed form from the covariance eigendecomposition) and
:class:`MixtureDensity` (scikit-learn's GaussianMixture, which needs the raw vectors).
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import linalg

from stochvis import assets
from stochvis.data import ImageSet, _resize_to
from stochvis.layers import capture
from stochvis.models import WrappedModel

FORMAT_VERSION = 1
# Fixed histogram for percentiles: 800 bins of asinh(x / 1e-3) on [-20, 20], i.e. ~5% relative
# resolution from 0.01 up to ~4e5 in absolute value; fixed edges make histograms add exactly.
HIST_BINS = 800
HIST_SCALE = 1e-3
HIST_LIMIT = 20.0
_FIELDS = ("count", "mean", "m2", "minimum", "maximum", "histogram")


class StatisticsFileError(ValueError):
    """A statistics file that cannot be used: truncated, corrupted, another model, another format."""


# ---------------------------------------------------------------------------------------------
# One feature: streamed moments + ranges
# ---------------------------------------------------------------------------------------------

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
        return cls(x.shape[1], x.shape[0], mean, centred.T @ centred, x.amin(0), x.amax(0), _histogram(x),
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
        self.m2.addmm_(centred.T, centred).addr_(delta, delta, alpha=self.count * n_batch / total)
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

    def upper_bound(self, k: float = 3.0) -> torch.Tensor:
        """mean + k·std per unit: the clipping bound of the generator prior (DGN-AM)."""
        return self.mean + k * self.std()

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
        for part, start, stop in self.parts:
            if part == name or part.split("/")[0] == name:
                return slice(start, stop)
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


# ---------------------------------------------------------------------------------------------
# Which vectors: the feature plan
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _random_basis(input_dim: int, dim: int, seed: int, device: str = "cpu") -> torch.Tensor:
    """A fixed Gaussian random projection (input_dim, dim), entries N(0, 1/dim), from its seed.

    Drawn in float32 on the CPU (reproducible), used in float64 so that projecting a batch gives
    the same numbers whatever the batching (float32 GEMMs do not), which keeps merges exact.
    """
    if input_dim * dim > 32_000_000:
        raise ValueError(f"a random projection of {input_dim} values to {dim} would need "
                         f"{input_dim * dim * 8 / 1e9:.1f} GB: use a smaller image size, a smaller "
                         "projection_dim, or pooled statistics for this layer")
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(input_dim, dim, generator=generator) / math.sqrt(dim)).to(torch.float64).to(device)


def _basis_hash(basis: torch.Tensor) -> str:
    return hashlib.sha256(basis.numpy().tobytes()).hexdigest()[:16]


def joint_key(a: str, b: str) -> str:
    """Key of the joint feature of two features (``"conv4_3/pooled+conv5_3/pooled"``)."""
    return f"{a}+{b}"


@dataclass
class FeaturePlan:
    """Which vectors to accumulate; serialisable so a loaded file can compute the same vectors."""

    pooled: list[str]
    maps: dict[str, dict[str, Any]]  # layer -> {"kind": "identity"|"random", "dim", "input_dim", "seed", "hash"}
    joint: list[tuple[str, str]]  # pairs of feature keys

    @property
    def layers(self) -> list[str]:
        return list(dict.fromkeys(self.pooled + list(self.maps)))

    @property
    def keys(self) -> list[str]:
        return ([f"{layer}/pooled" for layer in self.pooled] + [f"{layer}/map" for layer in self.maps]
                + [joint_key(a, b) for a, b in self.joint])

    def to_json(self) -> dict:
        return {"pooled": self.pooled, "maps": self.maps, "joint": [list(p) for p in self.joint]}

    @classmethod
    def from_json(cls, data: dict) -> FeaturePlan:
        return cls(list(data["pooled"]), dict(data["maps"]), [tuple(p) for p in data["joint"]])

    def vectors(self, model: WrappedModel, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every planned feature for a batch, float64 (N, d); one truncated forward pass."""
        acts = capture(model, images, self.layers)
        out: dict[str, torch.Tensor] = {}
        for layer in self.pooled:
            a = acts[layer]
            out[f"{layer}/pooled"] = (a.flatten(2).mean(2) if a.dim() > 2 else a.flatten(1)).to(torch.float64)
        for layer, spec in self.maps.items():
            flat = acts[layer].flatten(1)
            if flat.shape[1] != spec["input_dim"]:
                raise ValueError(f"{layer} has {flat.shape[1]} values per image here, the statistics were made "
                                 f"with {spec['input_dim']}: use the image size they were collected at")
            if spec["kind"] == "random":
                basis = _random_basis(spec["input_dim"], spec["dim"], spec["seed"], str(flat.device))
                flat = flat.to(torch.float64) @ basis
            out[f"{layer}/map"] = flat.to(torch.float64)
        for a, b in self.joint:
            out[joint_key(a, b)] = torch.cat([out[a], out[b]], 1)
        return out


def _feature_name(entry: str) -> str:
    return entry if "/" in entry else f"{entry}/pooled"


def make_plan(
    model: WrappedModel,
    layers: Sequence[str],
    image_shape: tuple[int, ...],
    *,
    pooled: bool | Iterable[str] = True,
    maps: bool | Iterable[str] = False,
    projection_dim: int = 256,
    full_dim_limit: int = 1024,
    projection_seed: int = 0,
    joint: Iterable[tuple[str, str]] | str = (),
) -> FeaturePlan:
    """Resolve the options of :func:`collect` into a plan (checks every name against the model)."""
    layers = [layers] if isinstance(layers, str) else list(layers)
    pooled_layers = list(layers) if pooled is True else ([] if pooled is False else list(pooled))
    map_layers = list(layers) if maps is True else ([] if maps is False else list(maps))
    for name in pooled_layers + map_layers:
        model.resolve(name)  # KeyError listing valid layers
    if not pooled_layers and not map_layers:
        raise ValueError("nothing to collect: give pooled and/or maps layers")
    map_specs: dict[str, dict[str, Any]] = {}
    if map_layers:
        with torch.inference_mode():
            probe = torch.zeros(1, *image_shape, device=model.device)
            shapes = {k: tuple(v.shape[1:]) for k, v in capture(model, probe, map_layers).items()}
        for layer in map_layers:
            input_dim = int(np.prod(shapes[layer]))
            if input_dim <= full_dim_limit:
                map_specs[layer] = {"kind": "identity", "dim": input_dim, "input_dim": input_dim,
                                    "shape": list(shapes[layer])}
            else:
                basis = _random_basis(input_dim, projection_dim, projection_seed)
                map_specs[layer] = {"kind": "random", "dim": projection_dim, "input_dim": input_dim,
                                    "shape": list(shapes[layer]), "seed": projection_seed, "hash": _basis_hash(basis)}
    if joint == "consecutive":
        joint = [(a, b) for a, b in zip(pooled_layers, pooled_layers[1:])]
    pairs = []
    known = [f"{layer}/pooled" for layer in pooled_layers] + [f"{layer}/map" for layer in map_specs]
    for a, b in joint:
        a, b = _feature_name(a), _feature_name(b)
        for key in (a, b):
            if key not in known:
                raise KeyError(f"joint statistics need {key!r} to be collected; collected features: {', '.join(known)}")
        pairs.append((a, b))
    return FeaturePlan(pooled_layers, map_specs, pairs)


# ---------------------------------------------------------------------------------------------
# A set of statistics: features + metadata; merge, all-reduce, save, load
# ---------------------------------------------------------------------------------------------

@dataclass
class Statistics:
    """Statistics of one class (or image set) under one model, per feature key."""

    features: dict[str, FeatureStats]
    meta: dict[str, Any]

    @property
    def count(self) -> int:
        return next(iter(self.features.values())).count

    @property
    def plan(self) -> FeaturePlan:
        return FeaturePlan.from_json(self.meta["plan"])

    @property
    def class_name(self) -> str | None:
        return self.meta.get("class_name")

    def keys(self) -> list[str]:
        return list(self.features)

    def __getitem__(self, key: str) -> FeatureStats:
        if key in self.features:
            return self.features[key]
        if "/" not in key and "+" not in key and f"{key}/pooled" in self.features:
            return self.features[f"{key}/pooled"]
        raise KeyError(f"no statistics for {key!r}; available: {', '.join(self.features)}")

    def joint(self, a: str, b: str) -> FeatureStats:
        """Joint statistics of two layers (or feature keys), e.g. ``stats.joint("conv4_3", "conv5_3")``."""
        return self[joint_key(_feature_name(a), _feature_name(b))]

    def density(self, key: str, kind: str = "gaussian", **kwargs) -> GaussianDensity:
        """A density model of one feature built from the statistics: ``"gaussian"`` or ``"ppca"``."""
        stats = self[key]
        if kind == "gaussian":
            return GaussianDensity.from_stats(stats, **kwargs)
        if kind == "ppca":
            return PPCADensity.from_stats(stats, **kwargs)
        raise ValueError(f"unknown density kind {kind!r}: 'gaussian' or 'ppca' (a mixture needs raw vectors: "
                         "MixtureDensity().fit(stats.vectors(model, images)[key]))")

    def vectors(self, model: WrappedModel, images: torch.Tensor, batch_size: int = 32) -> dict[str, torch.Tensor]:
        """The same feature vectors for new images (e.g. AM images), to score them under the class model."""
        check_model(self.meta, model)
        plan = self.plan
        chunks: dict[str, list[torch.Tensor]] = {}
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = _as_float_images(images[start:start + batch_size]).to(model.device)
                for key, value in plan.vectors(model, batch).items():
                    chunks.setdefault(key, []).append(value.cpu())
        return {key: torch.cat(parts).clone() for key, parts in chunks.items()}

    def merge(self, other: Statistics) -> Statistics:
        """Statistics of both image sets (same model, same features)."""
        if self.meta.get("fingerprint") != other.meta.get("fingerprint"):
            raise ValueError("cannot merge statistics of different model weights "
                             f"({self.meta.get('fingerprint')} vs {other.meta.get('fingerprint')})")
        if list(self.features) != list(other.features) or self.meta["plan"] != other.meta["plan"]:
            raise ValueError(f"cannot merge different features: {list(self.features)} vs {list(other.features)}")
        features = {k: self.features[k].merge(other.features[k]) for k in self.features}
        meta = dict(self.meta, count=self.count + other.count)
        if self.meta.get("source") != other.meta.get("source"):
            meta["source"] = f"{self.meta.get('source')} + {other.meta.get('source')}"
        return Statistics(features, meta)

    def all_reduce(self, group=None, features: dict[str, tuple[int, list]] | None = None) -> Statistics:
        """Combine the statistics of every rank of a torch.distributed group (each rank gets the result).

        Two sum-all-reduces: (n, n·mean) give the global mean m, then Σ_r M2_r + n_r (m_r − m)(m_r − m)ᵀ
        is the global M2 (the parallel-axis theorem); min/max reduce with MIN/MAX, histograms sum.
        A rank that saw no image of this class takes part with zero weight.
        """
        import torch.distributed as dist

        gathered: list = [None] * dist.get_world_size(group)
        dist.all_gather_object(gathered, {k: (s.dim, s.parts) for k, s in self.features.items() if s.count},
                               group=group)
        shapes = {}
        for g in gathered:
            for key, value in g.items():
                shapes.setdefault(key, value)
        device = next(iter(self.features.values())).mean.device if any(
            s.count for s in self.features.values()) else torch.device("cpu")
        if dist.get_backend(group) == "nccl":
            device = torch.device("cuda", torch.cuda.current_device())
        reduced = {}
        for key in sorted(shapes):
            dim, parts = shapes[key]
            mine = self.features.get(key)
            if mine is None or mine.count == 0:
                zero = torch.zeros(dim, dtype=torch.float64, device=device)
                mine = FeatureStats(dim, 0, zero, torch.zeros(dim, dim, dtype=torch.float64, device=device),
                                    zero + math.inf, zero - math.inf,
                                    torch.zeros(dim, HIST_BINS, dtype=torch.float64, device=device), list(parts))
            mine = mine.to(device)
            total = torch.tensor([float(mine.count)], dtype=torch.float64, device=device)
            weighted = mine.mean * mine.count
            dist.all_reduce(total, group=group)
            dist.all_reduce(weighted, group=group)
            mean = weighted / total
            delta = mine.mean - mean
            m2 = mine.m2 + torch.outer(delta, delta) * mine.count
            dist.all_reduce(m2, group=group)
            minimum, maximum, histogram = mine.minimum.clone(), mine.maximum.clone(), mine.histogram.clone()
            dist.all_reduce(minimum, op=dist.ReduceOp.MIN, group=group)
            dist.all_reduce(maximum, op=dist.ReduceOp.MAX, group=group)
            dist.all_reduce(histogram, group=group)
            reduced[key] = FeatureStats(dim, int(round(total.item())), mean, m2, minimum, maximum, histogram,
                                        [tuple(p) for p in parts])
        order = FeaturePlan.from_json(self.meta["plan"]).keys if "plan" in self.meta else list(self.features)
        ordered = {k: reduced[k] for k in order if k in reduced} | reduced
        return Statistics(ordered, dict(self.meta, count=next(iter(ordered.values())).count,
                                        world_size=dist.get_world_size(group)))

    # -- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """safetensors file, JSON metadata in its header, written atomically (temp file + rename)."""
        from safetensors.torch import save

        path = Path(path)
        tensors: dict[str, torch.Tensor] = {}
        for key, stats in self.features.items():
            tensors.update(stats.tensors(key))
        meta = dict(self.meta, format_version=FORMAT_VERSION, count=self.count,
                    features={k: {"dim": s.dim, "parts": [list(p) for p in s.parts]} for k, s in self.features.items()},
                    content_sha256=_content_hash(tensors))
        assets.atomic_write_bytes(path, save(tensors, metadata={"stochvis": json.dumps(meta)}))
        return path

    @classmethod
    def load(cls, path: str | Path, model: WrappedModel | None = None) -> Statistics:
        """Read a statistics file; with ``model``, refuse statistics made with other weights."""
        from safetensors.torch import load

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no statistics file {path}")
        data = path.read_bytes()
        meta = _read_metadata(data, path)
        try:
            tensors = load(data)
        except Exception as error:  # safetensors raises its own error type for bad buffers
            raise StatisticsFileError(f"{path} is corrupted ({error}); delete it and collect again") from error
        if _content_hash(tensors) != meta.get("content_sha256"):
            raise StatisticsFileError(f"{path} is corrupted (content hash mismatch); delete it and collect again")
        if model is not None:
            check_model(meta, model, path)
        features = {key: FeatureStats.from_tensors(tensors, key, info["parts"]) for key, info in meta["features"].items()}
        return cls(features, meta)


def _content_hash(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].contiguous().view(torch.uint8).reshape(-1).numpy().tobytes())
    return digest.hexdigest()


def _read_metadata(data: bytes, path: Path) -> dict:
    """The JSON metadata of a safetensors buffer, with errors that say what is wrong."""
    if len(data) < 8:
        raise StatisticsFileError(f"{path} is truncated ({len(data)} bytes); delete it and collect again")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise StatisticsFileError(f"{path} is truncated or not a safetensors file (header of {header_len} bytes, "
                                  f"file of {len(data)}); delete it and collect again")
    try:
        header = json.loads(data[8:8 + header_len])
        meta = json.loads(header["__metadata__"]["stochvis"])
    except (ValueError, KeyError, TypeError) as error:
        raise StatisticsFileError(f"{path} is not a stochvis statistics file ({error})") from error
    if meta.get("format_version") != FORMAT_VERSION:
        raise StatisticsFileError(f"{path} has format version {meta.get('format_version')}, this stochvis reads "
                                  f"{FORMAT_VERSION}; collect again")
    return meta


def check_model(meta: dict, model: WrappedModel, path: str | Path | None = None) -> None:
    """Refuse to use statistics collected with other weights (their numbers mean nothing here)."""
    if meta.get("fingerprint") != model.fingerprint:
        where = f" in {path}" if path else ""
        raise ValueError(f"statistics{where} were collected with {meta.get('model')} weights "
                         f"{meta.get('fingerprint')}, but this model is {model.name} with weights {model.fingerprint}; "
                         "collect them again for this model")


# ---------------------------------------------------------------------------------------------
# Collection
# ---------------------------------------------------------------------------------------------

def _as_float_images(images: torch.Tensor) -> torch.Tensor:
    images = torch.as_tensor(images)
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dim() != 4:
        raise ValueError(f"expected image batches (N, C, H, W), got shape {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    return images.float()


def _batches(source, model: WrappedModel, batch_size: int, image_size) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(images in [0, 1], labels or None) from an ImageSet, a tensor, (images, labels), or any iterable."""
    if isinstance(source, ImageSet):
        size = (image_size, image_size) if isinstance(image_size, int) else image_size
        transform = _resize_to(tuple(size)) if size else model.preprocess
        yield from source.batches(transform, batch_size)
        return
    if isinstance(source, torch.Tensor):
        source = (source, None)
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], torch.Tensor) and source[0].dim() == 4:
        images, labels = source
        for start in range(0, len(images), batch_size):
            yield images[start:start + batch_size], None if labels is None else torch.as_tensor(labels)[start:start + batch_size]
        return
    for item in source:
        if isinstance(item, (tuple, list)):
            yield item[0], (torch.as_tensor(item[1]) if len(item) > 1 else None)
        elif isinstance(item, dict):
            yield item["image"] if "image" in item else item["images"], item.get("label", item.get("labels"))
        else:
            yield item, None


def _describe(source) -> str:
    if isinstance(source, ImageSet):
        return f"{source.name} ({len(source)} images)"
    if isinstance(source, torch.Tensor):
        return f"tensor {tuple(source.shape)}"
    return type(source).__name__


def _length(source, batch_size: int) -> int | None:
    if isinstance(source, ImageSet):
        return math.ceil(len(source) / batch_size)
    if isinstance(source, torch.Tensor):
        return math.ceil(len(source) / batch_size)
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], torch.Tensor) and source[0].dim() == 4:
        return math.ceil(len(source[0]) / batch_size)
    try:
        return len(source)
    except TypeError:
        return None


def collect_classes(
    model: WrappedModel,
    source,
    layers: str | Sequence[str],
    *,
    classes: Sequence[str] | None = None,
    **options,
) -> dict[str, Statistics]:
    """Statistics per class label in one pass over ``source`` (its batches must carry labels).

    ``classes`` names the labels (default: the ImageSet's classes, else ``"0"``, ``"1"``, …).
    Options as in :func:`collect`.
    """
    if classes is None and isinstance(source, ImageSet):
        classes = source.classes
    return _collect(model, source, layers, by_label=True, classes=classes, **options)


def collect(
    model: WrappedModel,
    source,
    layers: str | Sequence[str],
    *,
    class_name: str | None = None,
    pooled: bool | Iterable[str] = True,
    maps: bool | Iterable[str] = False,
    projection_dim: int = 256,
    full_dim_limit: int = 1024,
    projection_seed: int = 0,
    joint: Iterable[tuple[str, str]] | str = (),
    batch_size: int = 16,
    image_size: int | tuple[int, int] | None = None,
    source_name: str | None = None,
    progress: bool = True,
    distributed: bool = False,
) -> Statistics:
    """Stream ``source`` once through ``model`` (truncated forward, inference mode) and accumulate
    the statistics of every image, whatever its label.

    ``source``: an ImageSet (resized to ``image_size`` if given, else ``model.preprocess``), a
    tensor (N, C, H, W) in [0, 1] (uint8 is divided by 255), ``(images, labels)``, or any iterable
    of such batches (a DataLoader). ``pooled`` / ``maps``: True (every layer), False, or a subset of
    layers. ``joint``: pairs of layers (or feature keys), or ``"consecutive"`` for every neighbouring
    pair of pooled layers. With ``distributed``, an ImageSet or tensor source is split across the
    ranks of the current torch.distributed group (any other source is taken as this rank's shard)
    and the statistics are all-reduced: every rank returns the statistics of all images.
    """
    options = dict(pooled=pooled, maps=maps, projection_dim=projection_dim, full_dim_limit=full_dim_limit,
                   projection_seed=projection_seed, joint=joint, batch_size=batch_size, image_size=image_size,
                   source_name=source_name, progress=progress, distributed=distributed)
    (stats,) = _collect(model, source, layers, by_label=False, classes=[class_name], **options).values()
    stats.meta["class_name"] = class_name
    return stats


def _collect(model, source, layers, *, by_label, classes, pooled=True, maps=False, projection_dim=256,
             full_dim_limit=1024, projection_seed=0, joint=(), batch_size=16, image_size=None, source_name=None,
             progress=True, distributed=False) -> dict[str, Statistics]:
    from tqdm.auto import tqdm

    rank, world = 0, 1
    if distributed:
        import torch.distributed as dist

        if not dist.is_initialized():
            raise RuntimeError("distributed=True needs torch.distributed.init_process_group(...) first (or torchrun)")
        rank, world = dist.get_rank(), dist.get_world_size()
    description = source_name or _describe(source)
    if world > 1:
        source = _shard(source, rank, world)
    accumulators: dict[int, dict[str, FeatureStats]] = {}
    plan: FeaturePlan | None = None
    image_shape = None
    batches = tqdm(_batches(source, model, batch_size, image_size), total=_length(source, batch_size),
                   disable=not progress or rank != 0, desc=f"statistics of {model.name}", unit="batch")
    with torch.inference_mode():
        for images, labels in batches:
            images = _as_float_images(images).to(model.device)
            if plan is None:
                image_shape = tuple(images.shape[1:])
                plan = make_plan(model, layers, image_shape, pooled=pooled, maps=maps, projection_dim=projection_dim,
                                 full_dim_limit=full_dim_limit, projection_seed=projection_seed, joint=joint)
            elif tuple(images.shape[1:]) != image_shape:
                raise ValueError(f"all images must share one size: got {tuple(images.shape[1:])} after {image_shape}")
            vectors = plan.vectors(model, images)
            if by_label and labels is None:
                raise ValueError("collect_classes needs labelled batches (images, labels); use collect for one class")
            label_list = [int(v) for v in torch.as_tensor(labels).reshape(-1)] if by_label else [0] * len(images)
            derived = _derived_features(plan)
            for label in sorted(set(label_list)):
                target = accumulators.setdefault(label, _empty_features(plan, vectors, skip=derived))
                rows = None
                if len(set(label_list)) > 1:
                    rows = torch.tensor([i for i, v in enumerate(label_list) if v == label], device=images.device)
                for key, stats in target.items():
                    stats.update(vectors[key] if rows is None else vectors[key].index_select(0, rows))
    if plan is None and world == 1:
        raise ValueError(f"the image source {description} gave no images")
    labels_everywhere = sorted(accumulators)
    if world > 1:
        import torch.distributed as dist

        gathered: list = [None] * world
        dist.all_gather_object(gathered, (sorted(accumulators), plan.to_json() if plan else None,
                                          list(image_shape) if image_shape else None))
        labels_everywhere = sorted(set().union(*(set(g[0]) for g in gathered)))
        plan_json, shape = next((g[1], g[2]) for g in gathered if g[1] is not None)
        plan, image_shape = FeaturePlan.from_json(plan_json), tuple(shape)
    results = {}
    for label in labels_everywhere:
        accumulated = accumulators.get(label, {})
        features = {}
        for key in plan.keys:  # copies leave inference mode; single layers inside a joint are its marginals
            if key in accumulated:
                features[key] = accumulated[key].copy()
            elif accumulated:
                joint_name, part = _derived_features(plan)[key]
                features[key] = accumulated[joint_name].marginal(part).copy()
        name = classes[label] if classes is not None and label < len(classes) and classes[label] is not None else str(label)
        meta = {
            "model": model.name, "fingerprint": model.fingerprint, "layers": plan.layers,
            "shapes": {layer: spec["shape"] for layer, spec in plan.maps.items()},
            "class_name": name, "label": label, "source": description, "image_size": list(image_shape[1:]),
            "plan": plan.to_json(), "projections": {f"{k}/map": v["kind"] for k, v in plan.maps.items()},
        }
        stats = Statistics(features, meta)
        if world > 1:
            stats = stats.all_reduce()
        stats.meta["count"] = stats.count
        results[name] = stats
    return results


def _derived_features(plan: FeaturePlan) -> dict[str, tuple[str, str]]:
    """Single features that are a block of a joint feature: accumulated once, inside the joint."""
    derived = {}
    for a, b in plan.joint:
        for key in (a, b):
            derived.setdefault(key, (joint_key(a, b), key))
    return derived


def _empty_features(plan: FeaturePlan, vectors: dict[str, torch.Tensor], skip=()) -> dict[str, FeatureStats]:
    out = {}
    for key, value in vectors.items():
        if key in skip:
            continue
        parts = []
        if "+" in key:
            a, b = key.split("+")
            da = vectors[a].shape[1]
            parts = [(a, 0, da), (b, da, value.shape[1])]
        out[key] = FeatureStats(value.shape[1], parts=parts)
    return out


def _shard(source, rank: int, world: int):
    if isinstance(source, ImageSet):
        keep = range(rank, len(source), world)
        return ImageSet([source.images[i] for i in keep], [source.labels[i] for i in keep], source.classes,
                        source.name, [source.sources[i] for i in keep] if source.sources else [])
    if isinstance(source, torch.Tensor):
        return source[rank::world]
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], torch.Tensor):
        return source[0][rank::world], None if source[1] is None else torch.as_tensor(source[1])[rank::world]
    return source  # a loader: assumed already sharded (e.g. with a DistributedSampler)


# ---------------------------------------------------------------------------------------------
# Density models (scikit-learn's face)
# ---------------------------------------------------------------------------------------------

def _as_array(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    array = np.asarray(x, dtype=np.float64)
    return array[None, :] if array.ndim == 1 else array


def oas_shrinkage(covariance: np.ndarray, n_samples: int) -> float:
    """The OAS shrinkage (Chen et al. 2010) from the ML covariance and N alone, as scikit-learn computes it."""
    p = covariance.shape[0]
    if p == 1:
        return 0.0
    alpha = np.mean(covariance**2)
    mu = np.trace(covariance) / p
    den = (n_samples + 1) * (alpha - mu**2 / p)
    return 1.0 if den == 0 else float(min((alpha + mu**2) / den, 1.0))


class GaussianDensity:
    """A Gaussian N(mean, Σ) with Σ shrunk towards (trace Σ / d)·I.

    ``shrinkage``: ``"oas"`` (default; from N and the covariance, so it works from a saved file),
    ``"ledoit_wolf"`` (only with :meth:`fit` on raw vectors: its formula needs fourth moments),
    a number in [0, 1], or ``None`` (the maximum-likelihood covariance). ``reg_covar`` adds
    ``reg_covar · trace/d`` to the diagonal so a rank-deficient class (N < d) stays invertible.
    ``parts`` (name, start, stop) name the slices of a joint vector for :meth:`condition`.
    """

    def __init__(self, shrinkage: str | float | None = "oas", reg_covar: float = 1e-6) -> None:
        self.shrinkage = shrinkage
        self.reg_covar = reg_covar
        self.parts_: list[tuple[str, int, int]] = []

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X, y=None) -> GaussianDensity:
        from sklearn.covariance import ledoit_wolf

        X = _as_array(X)
        if self.shrinkage == "ledoit_wolf":
            covariance, amount = ledoit_wolf(X)
            return self._set(X.mean(0), np.cov(X.T, ddof=0).reshape(X.shape[1], X.shape[1]), len(X), amount)
        return self._set(X.mean(0), np.cov(X.T, ddof=0).reshape(X.shape[1], X.shape[1]), len(X))

    @classmethod
    def from_stats(cls, stats: FeatureStats, shrinkage: str | float | None = "oas", reg_covar: float = 1e-6) -> GaussianDensity:
        """The same model :meth:`fit` would give on the raw vectors (OAS, fixed or no shrinkage)."""
        if shrinkage == "ledoit_wolf":
            raise ValueError("Ledoit-Wolf needs the raw vectors (fourth moments); from statistics use "
                             "shrinkage='oas', a number, or None")
        model = cls(shrinkage, reg_covar)
        model.parts_ = list(stats.parts)
        return model._set(stats.mean.cpu().numpy(), stats.covariance(ddof=0).cpu().numpy(), stats.count)

    def _set(self, mean: np.ndarray, ml_covariance: np.ndarray, n: int, amount: float | None = None) -> GaussianDensity:
        d = len(mean)
        if amount is None:
            if self.shrinkage == "oas":
                amount = oas_shrinkage(ml_covariance, n)
            elif self.shrinkage is None:
                amount = 0.0
            elif isinstance(self.shrinkage, (int, float)) and 0 <= self.shrinkage <= 1:
                amount = float(self.shrinkage)
            else:
                raise ValueError(f"shrinkage must be 'oas', 'ledoit_wolf', a number in [0, 1] or None, got {self.shrinkage!r}")
        mu = np.trace(ml_covariance) / d
        covariance = (1 - amount) * ml_covariance + amount * mu * np.eye(d)
        covariance[np.diag_indices(d)] += self.reg_covar * max(mu, 1e-12)
        return self._finish(mean, covariance, n, amount)

    def _finish(self, mean, covariance, n, amount) -> GaussianDensity:
        self.mean_ = np.asarray(mean, dtype=np.float64)
        self.covariance_ = np.asarray(covariance, dtype=np.float64)
        self.n_samples_ = int(n)
        self.shrinkage_ = float(amount)
        self.n_features_in_ = len(self.mean_)
        try:
            self._cholesky = linalg.cholesky(self.covariance_, lower=True)
        except linalg.LinAlgError as error:
            raise ValueError("the covariance is singular: use shrinkage ('oas') or a larger reg_covar") from error
        return self

    # -- scoring -----------------------------------------------------------------------------
    def _whiten(self, X) -> np.ndarray:
        X = _as_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"expected vectors of dimension {self.n_features_in_}, got {X.shape[1]}")
        return linalg.solve_triangular(self._cholesky, (X - self.mean_).T, lower=True).T

    def mahalanobis(self, X) -> np.ndarray:
        """Mahalanobis distance √((x − μ)ᵀ Σ⁻¹ (x − μ)) per sample."""
        return np.sqrt((self._whiten(X) ** 2).sum(1))

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each sample."""
        squared = (self._whiten(X) ** 2).sum(1)
        log_det = 2 * np.log(np.diag(self._cholesky)).sum()
        return -0.5 * (squared + log_det + self.n_features_in_ * np.log(2 * np.pi))

    def score(self, X, y=None) -> float:
        return float(self.score_samples(X).mean())

    def zscores(self, X) -> np.ndarray:
        """(x − μ) / σ per unit: which units make a sample an outlier."""
        return (_as_array(X) - self.mean_) / np.sqrt(np.diag(self.covariance_))

    def group_mahalanobis(self, X, groups: dict[str, Sequence[int] | slice] | None = None) -> dict[str, np.ndarray]:
        """Mahalanobis distance of each unit group under its marginal (default groups: the parts)."""
        if groups is None:
            if not self.parts_:
                raise ValueError("no parts: pass groups={name: indices}")
            groups = {name: slice(a, b) for name, a, b in self.parts_}
        X = _as_array(X)
        return {name: self.marginal(index).mahalanobis(X[:, index]) for name, index in groups.items()}

    # -- sampling and conditioning -----------------------------------------------------------
    def sample(self, n_samples: int = 1, seed: int | None = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return self.mean_ + rng.standard_normal((n_samples, self.n_features_in_)) @ self._cholesky.T

    def _index(self, part: str | slice | Sequence[int]) -> np.ndarray:
        if isinstance(part, str):
            for name, a, b in self.parts_:
                if name == part or name.split("/")[0] == part:
                    return np.arange(a, b)
            raise KeyError(f"no part {part!r}; parts: {', '.join(p for p, _, _ in self.parts_) or 'none'}")
        if isinstance(part, slice):
            return np.arange(self.n_features_in_)[part]
        return np.asarray(part, dtype=np.int64)

    def marginal(self, part: str | slice | Sequence[int]) -> GaussianDensity:
        index = self._index(part)
        out = GaussianDensity(self.shrinkage, self.reg_covar)
        return out._finish(self.mean_[index], self.covariance_[np.ix_(index, index)], self.n_samples_, self.shrinkage_)

    def _split(self, given):
        if given is None:
            if len(self.parts_) < 2:
                raise ValueError("condition needs given=... (indices or a part name) for a vector without parts")
            given = self.parts_[-1][0]
        b = self._index(given)
        a = np.setdiff1d(np.arange(self.n_features_in_), b)
        return a, b

    def _conditioner(self, given):
        a, b = self._split(given)
        cov = self.covariance_
        factor = linalg.cho_factor(cov[np.ix_(b, b)], lower=True)
        gain = linalg.cho_solve(factor, cov[np.ix_(b, a)]).T  # Σ_ab Σ_bb⁻¹, by a Cholesky solve
        conditional = cov[np.ix_(a, a)] - gain @ cov[np.ix_(b, a)]
        return a, b, gain, (conditional + conditional.T) / 2

    def condition(self, values, given: str | slice | Sequence[int] | None = None) -> GaussianDensity:
        """p(rest | x_given = values): μ_a + Σ_ab Σ_bb⁻¹ (v − μ_b), Σ_aa − Σ_ab Σ_bb⁻¹ Σ_ba.

        ``given`` defaults to the last part (layer k+1 of a joint k, k+1 model).
        """
        a, b, gain, conditional = self._conditioner(given)
        values = _as_array(values)[0]
        out = GaussianDensity(self.shrinkage, self.reg_covar)
        names = [p for p in self.parts_ if not set(range(p[1], p[2])) & set(b.tolist())]
        out.parts_ = [(n, s - names[0][1], e - names[0][1]) for n, s, e in names] if len(names) == 1 else []
        return out._finish(self.mean_[a] + gain @ (values - self.mean_[b]), conditional, self.n_samples_, self.shrinkage_)

    def conditional_mean(self, values, given=None) -> np.ndarray:
        """E[rest | x_given] for each row of ``values`` (M, d_given)."""
        a, b, gain, _ = self._conditioner(given)
        return self.mean_[a] + (_as_array(values) - self.mean_[b]) @ gain.T

    def conditional_sample(self, values, given=None, seed: int | None = 0) -> np.ndarray:
        """One draw of the rest for each row of ``values`` (M, d_given): a batch of conditionals at once."""
        a, b, gain, conditional = self._conditioner(given)
        values = _as_array(values)
        means = self.mean_[a] + (values - self.mean_[b]) @ gain.T
        chol = linalg.cholesky(conditional + 1e-12 * np.trace(conditional) / max(len(a), 1) * np.eye(len(a)), lower=True)
        rng = np.random.default_rng(seed)
        return means + rng.standard_normal(means.shape) @ chol.T


class PPCADensity(GaussianDensity):
    """Probabilistic PCA (Tipping & Bishop 1999) in closed form from the covariance eigendecomposition:
    W = U_q (Λ_q − σ²I)^½, σ² = mean of the discarded eigenvalues, Σ = WWᵀ + σ²I.

    Uses the ddof=1 covariance like scikit-learn's PCA, whose ``score_samples`` is the same
    likelihood when N > d.
    """

    def __init__(self, n_components: int = 10) -> None:
        super().__init__(shrinkage=None, reg_covar=0.0)
        self.n_components = n_components

    def fit(self, X, y=None) -> PPCADensity:
        X = _as_array(X)
        return self._from_cov(X.mean(0), np.cov(X.T, ddof=1).reshape(X.shape[1], X.shape[1]), len(X))

    @classmethod
    def from_stats(cls, stats: FeatureStats, n_components: int = 10) -> PPCADensity:
        model = cls(n_components)
        model.parts_ = list(stats.parts)
        return model._from_cov(stats.mean.cpu().numpy(), stats.covariance(ddof=1).cpu().numpy(), stats.count)

    def _from_cov(self, mean, covariance, n) -> PPCADensity:
        d = len(mean)
        q = int(self.n_components)
        if not 0 < q < d:
            raise ValueError(f"n_components must be in 1..{d - 1} for {d}-dimensional vectors, got {q}")
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues, eigenvectors = np.clip(eigenvalues[::-1], 0, None), eigenvectors[:, ::-1]
        noise = max(eigenvalues[q:].mean(), 1e-12 * max(eigenvalues[0], 1e-12))
        self.components_ = eigenvectors[:, :q].T
        self.explained_variance_ = eigenvalues[:q]
        self.noise_variance_ = float(noise)
        weights = eigenvectors[:, :q] * np.sqrt(np.clip(eigenvalues[:q] - noise, 0, None))
        return self._finish(mean, weights @ weights.T + noise * np.eye(d), n, 0.0)


class MixtureDensity:
    """A Gaussian mixture for multi-modal classes: scikit-learn's GaussianMixture, fitted on raw
    vectors (a mixture cannot be recovered from one mean and covariance)."""

    def __init__(self, n_components: int = 2, covariance_type: str = "full", reg_covar: float = 1e-4, seed: int = 0) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.seed = seed

    def fit(self, X, y=None) -> MixtureDensity:
        from sklearn.mixture import GaussianMixture

        X = _as_array(X)
        self.mixture_ = GaussianMixture(self.n_components, covariance_type=self.covariance_type,
                                        reg_covar=self.reg_covar * max(X.var(0).mean(), 1e-12),
                                        random_state=self.seed).fit(X)
        self.n_features_in_ = X.shape[1]
        return self

    @classmethod
    def from_stats(cls, stats: FeatureStats, **kwargs):
        raise TypeError("a Gaussian mixture needs the raw vectors: MixtureDensity().fit(stats.vectors(model, images)[key])")

    def score_samples(self, X) -> np.ndarray:
        return self.mixture_.score_samples(_as_array(X))

    def score(self, X, y=None) -> float:
        return float(self.score_samples(X).mean())

    def sample(self, n_samples: int = 1, seed: int | None = 0) -> np.ndarray:
        self.mixture_.random_state = seed
        samples, _ = self.mixture_.sample(n_samples)
        return samples[np.random.default_rng(seed).permutation(n_samples)]

    def mahalanobis(self, X) -> np.ndarray:
        """Distance to the most likely component, in that component's metric."""
        X = _as_array(X)
        mixture = self.mixture_
        best = mixture.predict(X)
        out = np.empty(len(X))
        for k in range(self.n_components):
            rows = best == k
            if rows.any():
                precision_chol = mixture.precisions_cholesky_[k] if self.covariance_type == "full" else None
                if precision_chol is None:
                    raise NotImplementedError("mahalanobis is implemented for covariance_type='full'")
                out[rows] = np.sqrt((((X[rows] - mixture.means_[k]) @ precision_chol) ** 2).sum(1))
        return out


# ---------------------------------------------------------------------------------------------
# Helpers for the notebooks: held-out splits, a cache, what separates classes
# ---------------------------------------------------------------------------------------------

def split_by_source(images: ImageSet, held_out_every: int = 4) -> tuple[ImageSet, ImageSet]:
    """(train, held-out) with every ``held_out_every``-th *source object* held out, so renders of one
    photo (Tux Paint pastes one cut-out several times) never sit on both sides of the check."""
    sources = images.sources or [str(i) for i in range(len(images))]
    order = {source: i for i, source in enumerate(dict.fromkeys(sources))}
    held = [order[s] % held_out_every == held_out_every - 1 for s in sources]

    def subset(keep: list[int], suffix: str) -> ImageSet:
        return ImageSet([images.images[i] for i in keep], [images.labels[i] for i in keep], images.classes,
                        f"{images.name}/{suffix}", [sources[i] for i in keep])

    return (subset([i for i, h in enumerate(held) if not h], "train"),
            subset([i for i, h in enumerate(held) if h], "held-out"))


def default_directory() -> Path:
    """Where statistics files are cached: ``stochvis.assets.home()/statistics``."""
    return assets.home() / "statistics"


def collect_classes_cached(
    model: WrappedModel,
    source,
    layers: str | Sequence[str],
    *,
    name: str,
    directory: str | Path | None = None,
    **options,
) -> dict[str, Statistics]:
    """:func:`collect_classes`, but read from ``directory`` when these exact statistics exist there.

    The file names carry a hash of the model's weights, the source's description and the options,
    so a change of any of them collects again. ``name`` should describe the images (set, size, seed).
    """
    directory = Path(directory) if directory is not None else default_directory()
    layers = [layers] if isinstance(layers, str) else list(layers)
    description = options.get("source_name") or _describe(source)
    key = hashlib.sha256(json.dumps([model.fingerprint, description, layers, sorted(
        (k, str(v)) for k, v in options.items() if k not in ("progress", "distributed"))]).encode()).hexdigest()[:10]
    index = directory / f"{name}-{key}.json"
    if index.exists():
        try:
            classes = json.loads(index.read_text())["classes"]
            return {c: Statistics.load(directory / f"{name}-{key}-{i}.safetensors", model) for i, c in enumerate(classes)}
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is collected again
    results = collect_classes(model, source, layers, **options)
    for i, stats in enumerate(results.values()):
        stats.save(directory / f"{name}-{key}-{i}.safetensors")
    assets.atomic_write_bytes(index, json.dumps({"classes": list(results), "model": model.name}).encode())
    return results


def fisher_ratio(per_class: dict[str, Statistics], key: str) -> np.ndarray:
    """Per unit: variance of the class means / mean within-class variance (large = separates classes)."""
    means = np.stack([s[key].mean.cpu().numpy() for s in per_class.values()])
    within = np.stack([s[key].covariance().diagonal().cpu().numpy() for s in per_class.values()]).mean(0)
    return means.var(0) / np.maximum(within, 1e-12)


def discriminant_directions(per_class: dict[str, Statistics], key: str, n_components: int = 2,
                            shrinkage: str | float | None = "oas") -> np.ndarray:
    """Fisher's linear discriminant directions (d, n_components) from the statistics alone:
    generalised eigenvectors of the between-class scatter against the shrunk within-class covariance."""
    densities = [s.density(key, shrinkage=shrinkage) for s in per_class.values()]
    counts = np.array([s.count for s in per_class.values()], dtype=np.float64)
    means = np.stack([d.mean_ for d in densities])
    centre = (counts[:, None] * means).sum(0) / counts.sum()
    between = ((means - centre).T * counts) @ (means - centre) / counts.sum()
    within = sum(c * d.covariance_ for c, d in zip(counts, densities)) / counts.sum()
    values, vectors = linalg.eigh(between, within)
    return vectors[:, ::-1][:, :n_components]
