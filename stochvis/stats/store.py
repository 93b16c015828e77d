"""Class-conditional activation statistics: streamed once, mergeable, saved safely, density models.

Why sufficient statistics and not stored activations: a class of a few thousand images at
conv3_3 is gigabytes of activations, but its count, mean and co-moment matrix are a few MB, and
two partial results (two shards, two machines, yesterday's run and today's) merge *exactly*
with Chan et al.'s parallel update. Everything is accumulated in float64.

What is accumulated, per layer (one :class:`FeatureStats` per *feature*):

* ``"<layer>/pooled"`` — the spatial mean of every channel (a C-vector per image);
* ``"<layer>/map"`` — the whole flattened map (float64 co-moments of the Fashion pool1 map, 6272
  values, are 315 MB: fine); above ``full_dim_limit`` collection refuses unless asked to shrink it:
  ``projection_dim`` (a fixed seeded Gaussian random basis, regenerated from its seed and checked by
  hash, never stored) or ``grid`` (``"<layer>/grid<g>"``: the map average-pooled to g×g);
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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from stochvis import assets
from stochvis.assets import content_sha256
from stochvis.features import FeaturePlan, joint_key, statistics_key
from stochvis.inputs import check_image_batch, check_images
from stochvis.models import WrappedModel
from stochvis.stats.density import GaussianDensity, PPCADensity
from stochvis.stats.lowrank import LowRankDensity
from stochvis.stats.moments import FORMAT_VERSION, HIST_BINS, FeatureStats, StatisticsFileError

DENSITIES = ("gaussian", "ppca", "lowrank")  # the class models Statistics.density builds from the moments


@dataclass
class Statistics:
    """Statistics of one class (or image set) under one model, per feature key."""

    features: dict[str, FeatureStats]
    meta: dict[str, Any]
    # check_finite's verdicts: key -> the (tensor, version) pairs it verified, so a feature is scanned once
    _finite: dict[str, tuple] = field(default_factory=dict, init=False, repr=False, compare=False)
    # memo_density's models: (key, spec) -> (stamp, model), the most recent MEMO_SIZE
    _models: dict[tuple, tuple] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def count(self) -> int:
        return next(iter(self.features.values())).count

    @property
    def plan(self) -> FeaturePlan:
        if "plan" not in self.meta:
            raise StatisticsFileError(f"statistics of {self.class_name!r} carry no feature plan (meta['plan']); "
                                      "they were not made by stochvis.stats.collection: collect them again")
        try:
            return FeaturePlan.from_json(self.meta["plan"])
        except (KeyError, TypeError, ValueError) as error:
            raise StatisticsFileError(f"statistics of {self.class_name!r} have a damaged feature plan "
                                      f"({type(error).__name__}: {error}); collect them again") from error

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
        return self[joint_key(statistics_key(a), statistics_key(b))]

    def density(self, key: str, density: str = "gaussian", **kwargs) -> GaussianDensity | LowRankDensity:
        """A density model of one feature built from the statistics, ``density`` one of :data:`DENSITIES`:
        ``"gaussian"`` (dense, OAS shrinkage), ``"ppca"``, or ``"lowrank"`` (factor analysis,
        :class:`LowRankDensity`: the one to use for whole maps of thousands of units, where a dense
        covariance is badly estimated and every solve is O(d³); ``n_components``, ``max_iter``,
        ``random_state`` go to it)."""
        stats = self[key]
        if density == "gaussian":
            return GaussianDensity.from_stats(stats, **kwargs)
        if density == "ppca":
            return PPCADensity.from_stats(stats, **kwargs)
        if density == "lowrank":
            kwargs.pop("shrinkage", None)  # a low-rank model is its own regulariser
            return LowRankDensity.from_stats(stats, **kwargs)
        raise ValueError(f"unknown density {density!r}: use one of {', '.join(DENSITIES)} (a mixture needs raw "
                         "vectors: MixtureDensity().fit(stats.vectors(model, images)[key]))")

    def vectors(self, model: WrappedModel, images: torch.Tensor, batch_size: int = 32) -> dict[str, torch.Tensor]:
        """The same feature vectors for new images (e.g. AM images), to score them under the class model."""
        check_model(self.meta, model)
        plan = self.plan
        chunks: dict[str, list[torch.Tensor]] = {}
        images = check_image_batch(images, check_values=False)
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = check_images(model, images[start:start + batch_size], first_index=start)
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
                    content_sha256=content_hash(tensors))
        meta.pop("metadata_sha256", None)
        meta = json.loads(json.dumps(meta))  # hashed as it will be read back (tuples → lists, keys → str)
        meta["metadata_sha256"] = metadata_hash(meta)
        assets.atomic_write_bytes(path, save(tensors, metadata={"stochvis": json.dumps(meta)}))
        return path

    @classmethod
    def load(cls, path: str | Path, model: WrappedModel | None = None) -> Statistics:
        """Read a statistics file; with ``model``, refuse statistics made with other weights."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no statistics file {path}")
        data = path.read_bytes()
        meta = _read_metadata(data, path)
        tensors = verified_tensors(data, meta, path)
        if "metadata_sha256" not in meta:
            # Files written before the metadata hash: their tensors are verified, their metadata cannot be.
            warnings.warn(f"{path} predates the metadata hash: its fingerprint, count and plan are not verified; "
                          "save it again (Statistics.load(path).save(path)) or collect again", stacklevel=2)
        elif metadata_hash(meta) != meta["metadata_sha256"]:
            raise StatisticsFileError(f"{path} has edited metadata (metadata hash mismatch: fingerprint, count, "
                                      "image size or plan changed after saving); delete it and collect again")
        if model is not None:
            check_model(meta, model, path)
        try:
            features = {key: FeatureStats.from_tensors(tensors, key, info["parts"])
                        for key, info in meta["features"].items()}
            stats = cls(features, meta)
            _check_consistent(stats, path)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, StatisticsFileError):
                raise
            raise StatisticsFileError(f"{path} has inconsistent metadata ({type(error).__name__}: {error}); "
                                      "delete it and collect again") from error
        return stats


def verified_tensors(data: bytes, meta: dict, path: str | Path,
                     remedy: str = "delete it and collect again") -> dict[str, torch.Tensor]:
    """The tensors of a stochvis safetensors file whose metadata is ``meta``, checked against its content
    hash: **the** corruption check of statistics and channel-quantile files."""
    from safetensors.torch import load

    try:
        tensors = load(data)
    except Exception as error:  # safetensors raises its own error type for bad buffers
        raise StatisticsFileError(f"{path} is corrupted ({error}); {remedy}") from error
    if content_hash(tensors) != meta.get("content_sha256"):
        raise StatisticsFileError(f"{path} is corrupted (content hash mismatch); {remedy}")
    return tensors


def write_tagged(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict) -> Path:
    """Write a stochvis file of a ``meta["kind"]`` other than moments (channel quantiles, curve densities):
    ``tensors`` with ``meta`` plus its content and metadata hashes, atomically. **The** writer of such files."""
    from safetensors.torch import save

    tensors = {key: value.contiguous() for key, value in tensors.items()}
    meta = json.loads(json.dumps({**meta, "content_sha256": content_hash(tensors)}))  # hashed as it will be read
    meta["metadata_sha256"] = metadata_hash(meta)
    path = Path(path)
    assets.atomic_write_bytes(path, save(tensors, metadata={"stochvis": json.dumps(meta)}))
    return path


def read_tagged(path: str | Path, *, kind: str, format_version: int, what: str, model: WrappedModel | None = None,
                allow_other_model: bool = False, other_kind_hint: str = "") -> tuple[dict, dict[str, torch.Tensor]]:
    """(metadata, tensors) of a file of :func:`write_tagged` that must hold ``kind`` at ``format_version``:
    **the** reader that refuses a missing, truncated, foreign, edited or corrupted file with a sentence, and, with
    ``model``, a file of other weights (unless ``allow_other_model``). ``what``: the file's kind in words."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no {what} file {path}")
    data = path.read_bytes()
    remedy = "delete it and collect the curves again"
    meta = assets.safetensors_metadata(data, path, what=f"a stochvis {what} file", remedy=remedy,
                                       error=StatisticsFileError)
    if meta.get("kind") != kind:
        raise StatisticsFileError(f"{path} is a stochvis file but holds {meta.get('kind') or 'moments'!s}, not "
                                  f"{what}{other_kind_hint}")
    if meta.get("format_version") != format_version:
        raise StatisticsFileError(f"{path} has format version {meta.get('format_version')}, this stochvis reads "
                                  f"{format_version}; collect again")
    if metadata_hash(meta) != meta.get("metadata_sha256"):
        raise StatisticsFileError(f"{path} has edited metadata (fingerprint, counts, layers or levels changed after "
                                  f"saving); {remedy}")
    if model is not None:
        check_model(meta, model, path, allow_other_model=allow_other_model)
    return meta, verified_tensors(data, meta, path, remedy)


def content_hash(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 of a statistics file's tensors, names included: **the** content hash of every stats file."""
    return content_sha256(part for key in sorted(tensors) for part in (key, tensors[key]))


def metadata_hash(meta: dict) -> str:
    """sha256 of the metadata (canonical JSON, without this hash): the fingerprint, count, image size
    and plan decide how statistics are used, so an edit of them is as bad as an edit of a tensor."""
    body = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check_consistent(stats: Statistics, path: Path) -> None:
    """The metadata agrees with the tensors: count, image size and plan."""
    counts = {key: feat.count for key, feat in stats.features.items()}
    if len(set(counts.values())) > 1:
        raise StatisticsFileError(f"{path}: features disagree on the image count: {counts}")
    meta = stats.meta
    if "count" in meta and counts and int(meta["count"]) != next(iter(counts.values())):
        raise StatisticsFileError(f"{path}: metadata says count {meta['count']} but the moments hold "
                                  f"{next(iter(counts.values()))} images; delete it and collect again")
    size = meta.get("image_size")
    if size is not None and not (isinstance(size, list) and len(size) == 2
                                 and all(isinstance(v, int) and 0 < v <= 65536 for v in size)):
        raise StatisticsFileError(f"{path}: image_size {size!r} is not (height, width) in pixels")
    if "plan" in meta:
        plan = FeaturePlan.from_json(meta["plan"])
        missing = [k for k in plan.keys if k not in stats.features]
        if missing:
            raise StatisticsFileError(f"{path}: the plan names features the file lacks: {', '.join(missing)}")


def _read_metadata(data: bytes, path: Path) -> dict:
    """The JSON metadata of a statistics file, with errors that say what is wrong."""
    meta = assets.safetensors_metadata(data, path, what="a stochvis statistics file",
                                       remedy="delete it and collect again", error=StatisticsFileError)
    if meta.get("format_version") != FORMAT_VERSION:
        raise StatisticsFileError(f"{path} has format version {meta.get('format_version')}, this stochvis reads "
                                  f"{FORMAT_VERSION}; collect again")
    return meta


def check_model(meta: dict | Statistics, model: WrappedModel, path: str | Path | None = None, *,
                allow_other_model: bool = False) -> None:
    """Refuse to use statistics collected with other weights (their numbers mean nothing here),
    unless ``allow_other_model`` (e.g. a fine-tuned copy whose units are known to match)."""
    meta = meta.meta if isinstance(meta, Statistics) else meta
    if allow_other_model or meta.get("fingerprint") == model.fingerprint:
        return
    where = f" in {path}" if path else ""
    raise ValueError(f"statistics{where} were collected with {meta.get('model')} weights "
                     f"{meta.get('fingerprint')}, but this model is {model.name} with weights {model.fingerprint}; "
                     "collect them again for this model (or pass allow_other_model=True if you know the units match)")


def check_finite(stats: Statistics, key: str) -> None:
    """Refuse a feature whose moments are missing or not finite: a poisoned file or collection must not
    drive a method quietly. Why a cache: a scan of a map's co-moments costs as much as building its
    density, and methods check before every draw; a verdict holds while the same tensors are unmodified."""
    feat = stats[key]
    stamp = _stamp(feat)
    if _unchanged(stats._finite.get(key), stamp):
        return
    for name, (value, _) in zip(("mean", "m2"), stamp):
        if value is None or not torch.isfinite(value).all():
            bad = "missing" if value is None else f"{int((~torch.isfinite(value)).sum())} non-finite values"
            raise ValueError(f"statistics of class {stats.class_name!r}, feature {key!r}: {name} has {bad}; "
                             "the file or the collection is poisoned — collect again")
    stats._finite[key] = stamp


def _stamp(feat: FeatureStats) -> tuple:
    """The tensors a feature's moments live in, with their in-place version counters."""
    return tuple((value, None if value is None else value._version) for value in (feat.mean, feat.m2))


def _unchanged(seen: tuple | None, stamp: tuple) -> bool:
    return seen is not None and all(a is b and va == vb for (a, va), (b, vb) in zip(seen, stamp))


MEMO_SIZE = 4  # a chain of three layers uses three models; whole-map joints are ~1 GB each


def memo_density(stats: Statistics, key: str, spec: tuple, build: Callable[[], Any]) -> Any:
    """``build()``, remembered per (feature, ``spec``) while the feature's tensors are unmodified.

    Why: a whole-map joint's factorisations take seconds to tens of seconds, and methods that draw
    from one class several times (the chain at two temperatures, the single-layer rows) would repeat
    them. Only deterministic models may be memoised: callers pass ``random_state`` to every draw."""
    stamp = _stamp(stats[key])
    seen = stats._models.get((key, spec))
    if seen is not None and _unchanged(seen[0], stamp):
        return seen[1]
    model = build()
    stats._models.pop((key, spec), None)
    stats._models[key, spec] = (stamp, model)
    while len(stats._models) > MEMO_SIZE:
        stats._models.pop(next(iter(stats._models)))
    return model
