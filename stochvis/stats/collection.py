"""Streaming class statistics: images → feature vectors (:mod:`stochvis.features`) → moments.

Why streamed: the full pool1 map of a class (6272 values × 6000 images) is 300 MB of float64
activations, but its count, mean and co-moments are exactly mergeable and never need the images again.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import torch

from stochvis import assets
from stochvis.data import ImageSet, resize_to
from stochvis.features import FULL_DIM_LIMIT, FeaturePlan, joint_key, joint_parts, make_plan
from stochvis.inputs import check_images
from stochvis.models import WrappedModel
from stochvis.stats.moments import FeatureStats
from stochvis.stats.store import Statistics


def _batches(source, model: WrappedModel, batch_size: int, image_size) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(images in [0, 1], labels or None) from an ImageSet, a tensor, (images, labels), or any iterable."""
    if isinstance(source, ImageSet):
        size = (image_size, image_size) if isinstance(image_size, int) else image_size
        transform = resize_to(tuple(size), grey=model.in_channels == 1) if size else model.preprocess
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
    projection_dim: int | None = None,
    full_dim_limit: int = FULL_DIM_LIMIT,
    projection_seed: int = 0,
    grid: int | Mapping[str, int] | None = None,
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
                   projection_seed=projection_seed, grid=grid, joint=joint, batch_size=batch_size, image_size=image_size,
                   source_name=source_name, progress=progress, distributed=distributed)
    (stats,) = _collect(model, source, layers, by_label=False, classes=[class_name], **options).values()
    stats.meta["class_name"] = class_name
    return stats


def _collect(model, source, layers, *, by_label, classes, pooled=True, maps=False, projection_dim=None,
             full_dim_limit=FULL_DIM_LIMIT, projection_seed=0, grid=None, joint=(), batch_size=16, image_size=None, source_name=None,
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
    seen = 0
    with torch.inference_mode():
        for images, labels in batches:
            images = check_images(model, images, first_index=seen)  # the one gate: range, NaN, channels
            count = len(images)
            if plan is None:
                image_shape = tuple(images.shape[1:])
                plan = make_plan(model, layers, image_shape, pooled=pooled, maps=maps, projection_dim=projection_dim,
                                 full_dim_limit=full_dim_limit, projection_seed=projection_seed, grid=grid,
                                 joint=joint)
            elif tuple(images.shape[1:]) != image_shape:
                raise ValueError(f"all images must share one size: got {tuple(images.shape[1:])} after {image_shape}")
            vectors = plan.vectors(model, images)
            if by_label and labels is None:
                raise ValueError("collect_classes needs labelled batches (images, labels); use collect for one class")
            label_list = _labels(labels, count, seen, classes) if by_label else [0] * count
            seen += count
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


def _labels(labels, count: int, first: int, classes: Sequence[str] | None) -> list[int]:
    """Integer labels for one batch, or an error naming what is wrong: a label count that differs from
    the image count, float labels (truncating 2.7 to 2 would be a guess), negative labels (−1 would
    silently name the last class), labels past the class list, or class names that do not exist."""
    if isinstance(labels, (list, tuple)) and labels and all(isinstance(v, str) for v in labels):
        if classes is None:
            raise ValueError("labels are class names, but no classes= were given to map them to indices")
        valid = list(classes)
        unknown = sorted({v for v in labels if v not in valid})
        if unknown:
            raise ValueError(f"unknown class name(s) {', '.join(map(repr, unknown))}; valid: {', '.join(map(str, valid))}")
        values = torch.tensor([valid.index(v) for v in labels])
    else:
        values = torch.as_tensor(labels)
    if values.dtype.is_floating_point or values.dtype.is_complex or values.dtype == torch.bool:
        raise TypeError(f"labels must be integers (class indices), got dtype {values.dtype}")
    values = values.reshape(-1)
    if len(values) != count:
        raise ValueError(f"{len(values)} labels for {count} images (images {first}..{first + count - 1}): "
                         "give exactly one label per image")
    if len(values) and int(values.min()) < 0:
        bad = int((values < 0).nonzero()[0, 0])
        raise ValueError(f"label {int(values[bad])} of image {first + bad} is negative: labels are class indices 0.."
                         f"{len(classes) - 1 if classes else 'K-1'} (−1 is not 'the last class')")
    if classes is not None and len(values) and int(values.max()) >= len(classes):
        bad = int((values >= len(classes)).nonzero()[0, 0])
        raise ValueError(f"label {int(values[bad])} of image {first + bad} is past the {len(classes)} classes "
                         f"({', '.join(map(str, classes))}): labels are 0..{len(classes) - 1}")
    return [int(v) for v in values]


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
            a, b = joint_parts(key)
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
    if directory is None:
        try:
            directory = default_directory()
        except OSError as error:
            warnings.warn(f"{error}; collecting without a cache", stacklevel=2)
            return collect_classes(model, source, layers, **options)
    directory = Path(directory)
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
    try:
        for i, stats in enumerate(results.values()):
            stats.save(directory / f"{name}-{key}-{i}.safetensors")
        assets.atomic_write_bytes(index, json.dumps({"classes": list(results), "model": model.name}).encode())
    except OSError as error:  # a read-only cache must not lose minutes of collection
        warnings.warn(f"could not cache the statistics in {directory} ({error}); returning them unsaved. Set "
                      "STOCHVIS_HOME to a writable folder (or pass directory=) to keep them", stacklevel=2)
    return results
