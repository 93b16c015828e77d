"""Feature keys and how a layer's activation becomes a vector: the one place that owns the format.

Keys: ``"<layer>/pooled"`` (channel means: *which* features, not where), ``"<layer>/map"`` (the
whole flattened map, or — only when asked with ``projection_dim`` — its seeded random projection),
``"<layer>/grid<g>"`` (the map average-pooled to g×g first: where things are, coarsely, at C·g²
values, so that e.g. VGG16 conv5_3 fits as 512·4·4), and ``"<a>+<b>"`` (the joint vector of two
features, for conditioning one layer on another). Use :func:`feature_key` / :func:`parse_key`
rather than building strings by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from stochvis import tokens
from stochvis.assets import content_sha256
from stochvis.layers import capture
from stochvis.models import WrappedModel

if TYPE_CHECKING:  # a type hint only: statistics depend on features, not the reverse
    from stochvis.stats.store import Statistics


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
    return content_sha256([basis])[:16]


def joint_key(a: str, b: str) -> str:
    """Key of the joint feature of two features (``"conv4_3/pooled+conv5_3/pooled"``)."""
    return f"{statistics_key(a)}+{statistics_key(b)}"


_GRID = re.compile(r"^grid(\d+)$")

# Above this many values a map is not accumulated whole unless asked: float64 co-moments cost
# 8·d² bytes (4096 → 134 MB per class and feature; the Fashion pool1 map, 6272, needs 315 MB).
FULL_DIM_LIMIT = 4096
KEY_KINDS = ("pooled", "map", "grid")  # what a statistics key stores of a layer; Feature reads with KINDS


def feature_key(layer: str, kind: str = "pooled", grid: int | None = None) -> str:
    """The key of one single-layer feature: ``layer/pooled``, ``layer/map`` or ``layer/grid<g>``."""
    if kind == "grid":
        if grid is None or int(grid) < 1:
            raise ValueError(f"a grid feature of {layer!r} needs grid ≥ 1, got {grid!r}")
        return f"{layer}/grid{int(grid)}"
    if kind not in KEY_KINDS:
        raise ValueError(f"feature kind {kind!r}: use one of {', '.join(KEY_KINDS)}")
    return f"{layer}/{kind}"


def parse_key(key: str) -> tuple[str, str, int | None]:
    """``"pool2/grid4"`` → ``("pool2", "grid", 4)``; a bare layer means its pooled vector."""
    if "+" in key:
        raise ValueError(f"{key!r} is a joint key: split it with key.split('+') first")
    layer, _, kind = key.partition("/")
    if kind in ("", "pooled"):
        return layer, "pooled", None
    if kind == "map":
        return layer, "map", None
    match = _GRID.match(kind)
    if match and int(match.group(1)) >= 1:
        return layer, "grid", int(match.group(1))
    raise ValueError(f"feature {key!r}: use 'layer', 'layer/pooled', 'layer/map' or 'layer/grid<g>' (e.g. grid4)")


def key_layer(key: str) -> str:
    """The layer a (non-joint) feature key reads: ``"pool2/map"`` → ``"pool2"``, ``"fc1"`` → ``"fc1"``."""
    return parse_key(key)[0]


def joint_parts(key: str) -> tuple[str, str]:
    """The two feature keys of a joint key: ``"pool1/map+pool2/map"`` → ``("pool1/map", "pool2/map")``."""
    parts = key.split("+")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{key!r} is not a joint key '<a>+<b>' of two features")
    return parts[0], parts[1]


def find_part(parts: Sequence[tuple[str, int, int]], name: str) -> tuple[int, int] | None:
    """(start, stop) of the part of a joint vector called ``name``: its key (``"pool2/map"``) or its layer
    (``"pool2"``); None when no part has that name. **The** rule every joint model addresses parts by."""
    for part, start, stop in parts:
        if part == name or part.partition("/")[0] == name:
            return start, stop
    return None


def _grid_pool(activation: torch.Tensor, grid: int) -> torch.Tensor:
    """(N, C·g·g): the map average-pooled to g×g (adaptive, so any map size works)."""
    if activation.dim() != 4:
        raise ValueError(f"a grid feature needs a conv map (N, C, H, W), got shape {tuple(activation.shape)}")
    return F.adaptive_avg_pool2d(activation, grid).flatten(1)


@dataclass
class FeaturePlan:
    """Which vectors to accumulate; serialisable so a loaded file can compute the same vectors."""

    pooled: list[str]
    maps: dict[str, dict[str, Any]]  # layer -> {"kind": "identity"|"random", "dim", "input_dim", "seed", "hash"}
    joint: list[tuple[str, str]]  # pairs of feature keys
    grids: dict[str, list[int]] = field(default_factory=dict)  # layer -> grid sizes g (features layer/grid<g>)

    @property
    def layers(self) -> list[str]:
        return list(dict.fromkeys(self.pooled + list(self.maps) + list(self.grids)))

    @property
    def single_keys(self) -> list[str]:
        return ([feature_key(layer, "pooled") for layer in self.pooled] + [feature_key(layer, "map") for layer in self.maps]
                + [feature_key(layer, "grid", g) for layer, sizes in self.grids.items() for g in sizes])

    @property
    def keys(self) -> list[str]:
        return self.single_keys + [joint_key(a, b) for a, b in self.joint]

    def to_json(self) -> dict:
        return {"pooled": self.pooled, "maps": self.maps, "joint": [list(p) for p in self.joint],
                "grids": {k: list(v) for k, v in self.grids.items()}}

    @classmethod
    def from_json(cls, data: dict) -> FeaturePlan:
        return cls(list(data["pooled"]), dict(data["maps"]), [tuple(p) for p in data["joint"]],
                   {k: [int(g) for g in v] for k, v in data.get("grids", {}).items()})

    def vectors(self, model: WrappedModel, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every planned feature for a batch, float64 (N, d); one truncated forward pass."""
        acts = capture(model, images, self.layers)
        out: dict[str, torch.Tensor] = {}
        for layer in self.pooled:
            a = acts[layer]
            out[f"{layer}/pooled"] = tokens.pooled(a, model).to(torch.float64)  # tokens: patch mean, no class token
        for layer, spec in self.maps.items():
            flat = acts[layer].flatten(1)
            if flat.shape[1] != spec["input_dim"]:
                raise ValueError(f"{layer} has {flat.shape[1]} values per image here, the statistics were made "
                                 f"with {spec['input_dim']}: use the image size they were collected at")
            if spec["kind"] == "random":
                basis = _random_basis(spec["input_dim"], spec["dim"], spec["seed"], str(flat.device))
                flat = flat.to(torch.float64) @ basis
            out[f"{layer}/map"] = flat.to(torch.float64)
        for layer, sizes in self.grids.items():
            for g in sizes:
                out[feature_key(layer, "grid", g)] = _grid_pool(tokens.as_map(acts[layer], model), g).to(torch.float64)
        for a, b in self.joint:
            out[joint_key(a, b)] = torch.cat([out[a], out[b]], 1)
        return out


class MapTooLargeError(ValueError):
    """A whole map was asked for but is above ``full_dim_limit`` and no way of shrinking it was given."""


def make_plan(
    model: WrappedModel,
    layers: Sequence[str],
    image_shape: tuple[int, ...],
    *,
    pooled: bool | Iterable[str] = True,
    maps: bool | Iterable[str] = False,
    projection_dim: int | None = None,
    full_dim_limit: int = FULL_DIM_LIMIT,
    projection_seed: int = 0,
    grid: int | Mapping[str, int] | None = None,
    joint: Iterable[tuple[str, str]] | str = (),
) -> FeaturePlan:
    """Resolve the options of :func:`collect` into a plan (checks every name against the model).

    ``maps``: layers whose whole map is accumulated (entries may also be ``"layer/grid<g>"``).
    A map of more than ``full_dim_limit`` values is never shrunk silently: it raises
    :class:`MapTooLargeError` naming its size, unless ``projection_dim`` is given (then it is
    projected on a seeded random basis, recorded in the plan) or ``grid`` is (an int for every map
    layer, or {layer: g}: the map is average-pooled to g×g and stored as ``layer/grid<g>``).
    Why refuse: a projection throws away where things are without saying so, which is what made
    stochastic deconvolution draw grey textures.
    """
    layers = [layers] if isinstance(layers, str) else list(layers)
    pooled_layers = list(layers) if pooled is True else ([] if pooled is False else list(pooled))
    map_entries = list(layers) if maps is True else ([] if maps is False else list(maps))
    grids: dict[str, list[int]] = {}
    map_layers: list[str] = []
    for entry in map_entries:
        layer, kind, g = parse_key(entry) if "/" in entry else (entry, "map", None)
        if kind == "pooled":
            raise ValueError(f"maps={entry!r}: a pooled key is not a map; put the layer in pooled=")
        if kind == "grid" or (grid is not None and (not isinstance(grid, Mapping) or layer in grid)):
            g = g if kind == "grid" else int(grid[layer] if isinstance(grid, Mapping) else grid)
            grids.setdefault(layer, [])
            if g not in grids[layer]:
                grids[layer].append(g)
        elif layer not in map_layers:
            map_layers.append(layer)
    if isinstance(grid, Mapping):
        for layer, g in grid.items():
            if layer not in grids:
                grids[layer] = [int(g)]
    for name in pooled_layers + map_layers + list(grids):
        model.resolve(name)  # KeyError listing valid layers
    if not pooled_layers and not map_layers and not grids:
        raise ValueError("nothing to collect: give pooled and/or maps layers")
    map_specs: dict[str, dict[str, Any]] = {}
    probed = map_layers + list(grids)
    shapes: dict[str, tuple[int, ...]] = {}
    if probed:
        with torch.inference_mode():
            probe = torch.zeros(1, *image_shape, device=model.device)
            shapes = {k: tuple(v.shape[1:]) for k, v in capture(model, probe, probed).items()}
    for layer in grids:
        if len(tokens.map_shape(shapes[layer], model)) != 3:
            raise ValueError(f"grid statistics of {layer!r} need a conv map (C, H, W); it has shape {shapes[layer]}")
    for layer in map_layers:
        input_dim = int(np.prod(shapes[layer]))
        if input_dim <= full_dim_limit:
            map_specs[layer] = {"kind": "identity", "dim": input_dim, "input_dim": input_dim,
                                "shape": list(shapes[layer])}
        elif projection_dim is None:
            channels = shapes[layer][0] if len(shapes[layer]) == 3 else None
            hint = (f" or grid={{{layer!r}: g}} to average-pool it to g×g first ({channels}·g² values, key "
                    f"'{layer}/grid<g>')") if channels else ""
            raise MapTooLargeError(
                f"the {layer!r} map has {input_dim} values {shapes[layer]} > full_dim_limit={full_dim_limit} "
                f"(float64 co-moments: {8 * input_dim ** 2 / 1e6:.0f} MB per class). Keep it whole with "
                f"full_dim_limit={input_dim}, project it explicitly with projection_dim=<d> (a random "
                f"projection: loses where things are){hint}")
        else:
            basis = _random_basis(input_dim, projection_dim, projection_seed)
            map_specs[layer] = {"kind": "random", "dim": projection_dim, "input_dim": input_dim,
                                "shape": list(shapes[layer]), "seed": projection_seed, "hash": _basis_hash(basis)}
    if joint == "consecutive":
        joint = [(a, b) for a, b in zip(pooled_layers, pooled_layers[1:])]
    pairs = []
    known = ([feature_key(layer, "pooled") for layer in pooled_layers] + [feature_key(layer, "map") for layer in map_specs]
             + [feature_key(layer, "grid", g) for layer, sizes in grids.items() for g in sizes])
    for a, b in joint:
        a, b = statistics_key(a), statistics_key(b)
        for key in (a, b):
            if key not in known:
                raise KeyError(f"joint statistics need {key!r} to be collected; collected features: {', '.join(known)}")
        pairs.append((a, b))
    return FeaturePlan(pooled_layers, map_specs, pairs, grids)


KINDS = ("auto", "map", "pooled", "projected", "grid")  # how a Feature reads an activation


@dataclass
class Feature:
    """How a layer's activation is read for matching: the map, channel means, or a projection.

    ``kind="auto"`` (a bare layer name) decides at the first call from the target's size: the whole
    map if the target has as many values as the activation, the channel means if it has C values.
    """

    layer: str
    kind: str = "auto"
    basis: torch.Tensor | None = field(default=None, repr=False)  # (input_dim, dim) for "projected"
    grid: int | None = None  # g for "grid": the map average-pooled to g×g

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"feature kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.kind == "projected" and self.basis is None:
            raise ValueError(f"projected feature of {self.layer!r} needs its basis")
        if self.kind == "grid" and (self.grid is None or int(self.grid) < 1):
            raise ValueError(f"grid feature of {self.layer!r} needs grid ≥ 1, got {self.grid!r}")

    @property
    def key(self) -> str:
        if self.kind == "auto":
            return self.layer
        if self.kind == "grid":
            return feature_key(self.layer, "grid", self.grid)
        return feature_key(self.layer, "map" if self.kind == "projected" else self.kind)

    def resolve(self, activation: torch.Tensor, dim: int) -> Feature:
        """The concrete feature for an activation (N, ...) and a target of ``dim`` values per image."""
        if self.kind != "auto":
            return self
        per_image = activation[0].numel()
        if dim == per_image:
            return Feature(self.layer, "map")
        if activation.dim() > 2 and dim == tokens.channel_count(activation.shape[1:]):
            return Feature(self.layer, "pooled")
        raise ValueError(f"target for {self.layer!r} has {dim} values per image; the activation has shape "
                         f"{tuple(activation.shape[1:])}: give the whole map ({per_image} values, check the image "
                         f"size) or one value per channel ({activation.shape[1]})")

    def __call__(self, activation: torch.Tensor) -> torch.Tensor:
        """(N, d) float32 vectors of this feature."""
        act = activation.float()
        if self.kind == "pooled":
            return tokens.pooled(act)
        if self.kind == "grid":
            return _grid_pool(tokens.as_map(act), int(self.grid))
        flat = act.flatten(1)
        if self.kind == "projected":
            if flat.shape[1] != self.basis.shape[0]:
                raise ValueError(f"{self.layer!r} has {flat.shape[1]} values per image but the projection expects "
                                 f"{self.basis.shape[0]}: use the image size the statistics were collected at")
            return flat @ self.basis.to(flat.device)
        if self.kind == "auto":
            raise RuntimeError("resolve an 'auto' feature against an activation first")
        return flat


def feature(spec: str | Feature, stats: Statistics | None = None) -> Feature:
    """A :class:`Feature` from ``"layer"`` (auto), ``"layer/pooled"``, ``"layer/map"``, ``"layer/grid<g>"``
    or a Feature.

    With ``stats``, ``"layer/map"`` is read as the statistics store it: the whole map, or its
    seeded random projection (the basis is regenerated from its seed and checked by hash).
    """
    if isinstance(spec, Feature):
        return spec
    layer, _, kind = spec.partition("/")
    if kind in ("", "auto"):
        return Feature(layer, "auto")
    layer, kind, grid = parse_key(spec)
    if kind == "pooled":
        return Feature(layer, "pooled")
    if kind == "grid":
        return Feature(layer, "grid", grid=grid)
    if stats is None or layer not in stats.plan.maps or stats.plan.maps[layer]["kind"] == "identity":
        return Feature(layer, "map")

    plan = stats.plan.maps[layer]
    basis = _random_basis(plan["input_dim"], plan["dim"], plan["seed"])
    if _basis_hash(basis) != plan["hash"]:
        raise ValueError(f"the random projection of {layer!r} regenerated here differs from the statistics' "
                         "(another torch version's generator?): collect the statistics again")
    return Feature(layer, "projected", basis.float())


def statistics_key(spec: str | Feature) -> str:
    """The statistics key of a feature: a bare layer means its pooled vector there (``"fc1"`` →
    ``"fc1/pooled"``); keys with a kind or joints (``"pool2/map"``, ``"a+b"``) are kept as they are."""
    if isinstance(spec, Feature):
        return spec.key if spec.kind != "auto" else f"{spec.layer}/pooled"
    return spec if "/" in spec or "+" in spec else f"{spec}/pooled"
