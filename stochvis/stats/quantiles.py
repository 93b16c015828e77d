"""Per-channel distribution statistics: each channel's mean quantile curve over a set of images.

What VITAL (Görgün et al., ICCV 2025) matches a synthetic image to, and what
:func:`stochvis.optvis.distribution_matching.sorted_match` takes as its target: for one layer, for
every channel, the quantile curve of the channel's activations over all spatial positions of an
image (its sorted values resampled to Q fixed levels), averaged over the images of a class.

Why the *mean of sorted* curves: the average of quantile functions is the Wasserstein-2 barycentre
of the images' distributions (in 1-D, W2 is the L2 distance of quantile functions), i.e. the one
distribution closest on average to every class image's — where averaging the histograms would
blur a channel that fires strongly in half the images and not at all in the others into one
that fires weakly in all. Why Q fixed levels (see :func:`~stochvis.optvis.distribution_matching.channel_curves`):
real images of different sizes, and an optimised image of yet another size, give comparable curves.

Why a sum and a count in float64: two shards (two machines, yesterday's run and today's) merge
exactly, in any order, and a curve averaged over thousands of images does not drift in float32.
Files are safetensors with the model's weight fingerprint, refused for another model, as
:mod:`stochvis.stats.store` does for the moments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from stochvis.inputs import check_image_batch, check_images
from stochvis.layers import capture
from stochvis.models import WrappedModel
from stochvis.optvis.distribution_matching import channel_curves, check_quantiles, quantile_levels
from stochvis.stats.moments import StatisticsFileError
from stochvis.stats.store import read_tagged, write_tagged

KIND = "channel_quantiles"
FORMAT_VERSION = 1


@dataclass
class ChannelQuantiles:
    """The summed quantile curves (C, Q) of one layer's channels over ``count`` images, float64.

    Start empty (``ChannelQuantiles("conv3", 32)``), ``update`` with activations, ``merge`` shards;
    ``curves`` is the mean (C, Q) in float32, the target of ``sorted_match``. ``model`` and
    ``fingerprint`` name the weights the activations came from (set by :func:`collect_quantiles`),
    so a merge or a file of other weights is refused."""

    layer: str
    quantiles: int = 32
    count: int = 0
    total: torch.Tensor | None = None  # (C, Q) float64, Σ over images of their curves
    model: str | None = None
    fingerprint: str | None = None
    sizes: list[list[int]] = field(default_factory=list)  # the distinct (H, W) of the activation maps seen

    def __post_init__(self) -> None:
        check_quantiles(self.quantiles)

    @property
    def channels(self) -> int | None:
        return None if self.total is None else int(self.total.shape[0])

    @property
    def levels(self) -> torch.Tensor:
        """The Q levels (k + ½)/Q of the curves."""
        return quantile_levels(self.quantiles)

    @property
    def curves(self) -> torch.Tensor:
        """(C, Q) float32: each channel's quantile curve averaged over the images."""
        if self.total is None or self.count == 0:
            raise ValueError(f"no curves yet for layer {self.layer!r}: update() with activations of at least one "
                             "image (or collect_quantiles(model, images, layers))")
        return (self.total / self.count).float()

    def update(self, activations: torch.Tensor) -> ChannelQuantiles:
        """Add N images' curves; ``activations`` (N, C, H, W) maps, (N, T, D) tokens (channels last)
        or (N, C) vectors, of this layer. Returns ``self``."""
        act = torch.as_tensor(activations).detach()
        if act.dim() < 2 or act.shape[0] == 0:
            raise ValueError(f"activations of layer {self.layer!r} must be (N ≥ 1, C, H, W), (N, T, D) or (N, C), "
                             f"got shape {tuple(act.shape)}")
        if not torch.isfinite(act).all():
            raise ValueError(f"activations of layer {self.layer!r} contain NaN or Inf: the images or the model "
                             "are broken; nothing was added")
        curves = channel_curves(act, self.quantiles).double().sum(0).cpu()
        if self.total is not None and curves.shape != self.total.shape:
            raise ValueError(f"layer {self.layer!r}: activations with {curves.shape[0]} channels, but "
                             f"{self.total.shape[0]} were accumulated so far")
        self.total = curves if self.total is None else self.total + curves
        self.count += int(act.shape[0])
        size = [int(s) for s in act.shape[2:]] if act.dim() == 4 else [int(act.shape[1])] if act.dim() == 3 else []
        if size and size not in self.sizes:
            self.sizes.append(size)
        return self

    def merge(self, other: ChannelQuantiles) -> ChannelQuantiles:
        """The curves of both image sets (same layer, levels and weights), exactly: sums and counts add."""
        if (self.layer, self.quantiles) != (other.layer, other.quantiles):
            raise ValueError(f"cannot merge curves of layer {self.layer!r} at {self.quantiles} levels with layer "
                             f"{other.layer!r} at {other.quantiles}: merge the same layer at the same levels")
        if self.fingerprint and other.fingerprint and self.fingerprint != other.fingerprint:
            raise ValueError(f"cannot merge curves of different model weights ({self.model} {self.fingerprint} vs "
                             f"{other.model} {other.fingerprint})")
        if self.total is not None and other.total is not None and self.total.shape != other.total.shape:
            raise ValueError(f"cannot merge {self.total.shape[0]} channels with {other.total.shape[0]} "
                             f"for layer {self.layer!r}")
        parts = [t for t in (self.total, other.total) if t is not None]
        total = None if not parts else parts[0].clone() if len(parts) == 1 else parts[0] + parts[1]
        sizes = list(self.sizes) + [s for s in other.sizes if s not in self.sizes]
        return ChannelQuantiles(self.layer, self.quantiles, self.count + other.count, total,
                                self.model or other.model, self.fingerprint or other.fingerprint, sizes)


def _layer_names(layers: str | Sequence[str]) -> list[str]:
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ValueError("no layers: name at least one, e.g. layers=['conv2', 'conv3'] "
                         "(stochvis.layers.list_layers(model) lists them)")
    if len(set(names)) != len(names):
        raise ValueError(f"layers named twice: {names}")
    return names


def _checked(model: WrappedModel, layers: str | Sequence[str], batch_size: int, quantiles: int) -> list[str]:
    """The layer names, each resolved in ``model`` (a KeyError names the closest valid ones), once the batch
    size and the levels are checked."""
    check_quantiles(quantiles)
    names = _layer_names(layers)
    for name in names:
        model.resolve(name)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return names


def _batches(images, batch_size: int) -> Iterable[tuple[int, torch.Tensor]]:
    """(index of the first image, batch) from a tensor (N, C, H, W) or an iterable of batches/images,
    which may differ in size (curves at fixed levels are comparable across sizes)."""
    if isinstance(images, torch.Tensor) or hasattr(images, "__array__"):
        images = check_image_batch(images, check_values=False)
        for start in range(0, len(images), batch_size):
            yield start, images[start:start + batch_size]
        return
    start = 0
    for item in images:
        batch = check_image_batch(item, check_values=False, first_index=start)
        yield start, batch
        start += len(batch)


def _activations(model: WrappedModel, images, names: list[str], batch_size: int) -> Iterable[dict[str, torch.Tensor]]:
    """The activations of ``names`` per batch of ``images``, each batch through the input gate, no gradient
    (not inference_mode: sums built from them must stay ordinary tensors, merged and saved later)."""
    for start, batch in _batches(images, batch_size):
        if len(batch):
            with torch.no_grad():
                yield capture(model, check_images(model, batch, first_index=start), names)


def collect_quantiles(
    model: WrappedModel,
    images,
    layers: str | Sequence[str],
    *,
    batch_size: int = 16,
    quantiles: int = 32,
) -> dict[str, ChannelQuantiles]:
    """Stream ``images`` once through ``model`` (truncated forward, inference mode) into one
    :class:`ChannelQuantiles` per layer, {layer: curves}.

    ``images``: float (N, C, H, W) in [0, 1] (uint8 is divided by 255), or an iterable of such
    batches or single images (C, H, W), sizes may differ. ``quantiles``: Q levels per curve (32 or 64:
    the curve of a map of H·W positions is exact when Q = H·W and a resampling otherwise)."""
    names = _checked(model, layers, batch_size, quantiles)
    out = {name: ChannelQuantiles(name, quantiles, model=model.name, fingerprint=model.fingerprint) for name in names}
    for acts in _activations(model, images, names, batch_size):
        for name in names:
            out[name].update(acts[name])
    if out[names[0]].count == 0:
        raise ValueError("no images: give float images (N ≥ 1, C, H, W) in [0, 1], or an iterable of such batches")
    return out


def image_curves(
    model: WrappedModel,
    images,
    layers: str | Sequence[str],
    *,
    batch_size: int = 16,
    quantiles: int = 32,
) -> dict[str, torch.Tensor]:
    """Each image's own curves, {layer: (N, C, Q)} in float32, from one truncated forward per batch: what
    :func:`collect_quantiles` averages, kept apart so that the *spread* of the curves over a class's images
    can be modelled (:class:`stochvis.stats.curve_density.CurveDensity`), not only their mean."""
    names = _checked(model, layers, batch_size, quantiles)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for acts in _activations(model, images, names, batch_size):
        for name in names:
            parts[name].append(channel_curves(acts[name], quantiles).cpu())
    if not parts[names[0]]:
        raise ValueError("no images: give float images (N ≥ 1, C, H, W) in [0, 1], or an iterable of such batches")
    return {name: torch.cat(value) for name, value in parts.items()}


def mean_curves(per_image: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """{layer: (C, Q)}: the mean of :func:`image_curves`' {layer: (N, C, Q)}, summed in float64 as
    :class:`ChannelQuantiles` sums them — :func:`collect_quantiles`' curves of the same images without a second
    forward pass (equal to them up to the order of a float64 sum, i.e. in practice to the bit)."""
    if not per_image:
        raise ValueError("mean_curves needs per-image curves, {layer: (N, C, Q)} from image_curves")
    out = {}
    for layer, curves in per_image.items():
        if curves.dim() != 3 or curves.shape[0] == 0:
            raise ValueError(f"layer {layer!r}: per-image curves must be (N ≥ 1, C, Q), got {tuple(curves.shape)}")
        out[layer] = (curves.double().sum(0) / curves.shape[0]).float()
    return out


# -- files -----------------------------------------------------------------------------------

def save_quantiles(path: str | Path, curves: Mapping[str, ChannelQuantiles], *,
                   model: WrappedModel | None = None) -> Path:
    """Write {layer: ChannelQuantiles} as one safetensors file (sums in float64, counts, the weights'
    fingerprint and a content hash in the metadata), atomically. ``model`` supplies the fingerprint of
    curves built by hand; given with curves that carry another one, it is refused."""
    if not curves:
        raise ValueError("nothing to save: give {layer: ChannelQuantiles} from collect_quantiles")
    fingerprints = {c.fingerprint for c in curves.values()} - {None}
    if model is not None:
        if fingerprints - {model.fingerprint}:
            raise ValueError(f"these curves were collected with weights {sorted(fingerprints)}, not {model.name}'s "
                             f"{model.fingerprint}: save them without model=, or collect them again")
        fingerprints = {model.fingerprint}
    if len(fingerprints) != 1:
        raise ValueError("the curves name no model weights (or several): pass model= so the file can be tied to "
                         f"its weights (got fingerprints {sorted(fingerprints)})")
    tensors, layers = {}, {}
    for layer, item in curves.items():
        if item.total is None or item.count == 0:
            raise ValueError(f"layer {layer!r} has no images yet: update or collect before saving")
        tensors[f"{layer}/total"] = item.total.double().contiguous()
        layers[layer] = {"count": item.count, "quantiles": item.quantiles, "sizes": item.sizes}
    names = {c.model for c in curves.values()} - {None}
    meta = {"kind": KIND, "format_version": FORMAT_VERSION, "fingerprint": next(iter(fingerprints)),
            "model": model.name if model is not None else (sorted(names)[0] if names else None), "layers": layers}
    return write_tagged(path, tensors, meta)


def load_quantiles(path: str | Path, model: WrappedModel | None = None, *,
                   allow_other_model: bool = False) -> dict[str, ChannelQuantiles]:
    """Read a file of :func:`save_quantiles`; with ``model``, refuse curves of other weights (their
    channels mean nothing here) unless ``allow_other_model``."""
    meta, tensors = read_tagged(path, kind=KIND, format_version=FORMAT_VERSION, what="channel quantiles", model=model,
                                allow_other_model=allow_other_model,
                                other_kind_hint=": load it with stochvis.stats.Statistics.load")
    remedy = "delete it and collect the curves again"
    try:
        return {layer: ChannelQuantiles(layer, int(info["quantiles"]), int(info["count"]), tensors[f"{layer}/total"],
                                        meta.get("model"), meta["fingerprint"], [list(s) for s in info["sizes"]])
                for layer, info in meta["layers"].items()}
    except (KeyError, TypeError, ValueError) as error:
        raise StatisticsFileError(f"{path} has inconsistent metadata ({type(error).__name__}: {error}); "
                                  f"{remedy}") from error


__all__ = ["ChannelQuantiles", "collect_quantiles", "image_curves", "load_quantiles", "mean_curves", "save_quantiles"]
