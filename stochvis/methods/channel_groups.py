"""Mixture: the channels a group of images excites, and an image that excites them all.

The visualisation-tool report (section 3.3, figures 4.1–4.3) joins the dataset-centric and the
network-centric views: pass a group of images (faces, sunflowers, brains — even a kind the network
was never trained on) forward, take the K most activated neurons, and synthesise one image that
maximises just those. Which layers the K come from decides what appears: low layers give textures
and colours, higher layers combine them into parts (petals, eyes).

"Most activated" needs a baseline: a channel that fires for every image (a sky detector, a colour
blob) tells nothing about the group. Channels are ranked by how much more the group drives them
than a *reference* set of other images, in units of the reference's spread (a z-score of the group
mean); the per-channel means come from :func:`stochvis.stats.collection.collect` (streamed, float64).
The synthesis is ordinary activation maximisation: :func:`mixture_objective` returns an
:class:`~stochvis.optvis.objectives.Objective` for :func:`stochvis.optvis.optimize.optimize` or a preset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from stochvis.models import WrappedModel
from stochvis.optvis.objectives import Activations, Objective
from stochvis.stats.collection import collect
from stochvis.stats.store import Statistics

SCORES = ("zscore", "difference", "ratio", "group")


@dataclass
class ChannelRanking:
    """Per layer: the group's and the reference's mean (and the reference's std) of every channel's
    spatial mean, and the ranking score. ``top(k)`` picks channels."""

    layers: list[str]
    group_mean: dict[str, torch.Tensor]
    reference_mean: dict[str, torch.Tensor]
    reference_std: dict[str, torch.Tensor]
    score: dict[str, torch.Tensor]
    kind: str = "zscore"

    def top(self, k: int | Mapping[str, int]) -> dict[str, torch.Tensor]:
        """The ``k`` best channels of every layer (or ``{layer: k}``), best first."""
        chosen = {}
        for layer in self.layers:
            count = k.get(layer, 0) if isinstance(k, Mapping) else int(k)
            channels = len(self.score[layer])
            if not 0 <= count <= channels:
                raise ValueError(f"k={count} for layer {layer!r}, which has {channels} channels (use 0..{channels})")
            if count:
                chosen[layer] = torch.topk(self.score[layer], count).indices
        return chosen


def _pooled_stats(model: WrappedModel, images, layers: Sequence[str], batch_size: int, name: str) -> Statistics:
    return collect(model, images, list(layers), pooled=True, maps=False, batch_size=batch_size, source_name=name,
                   progress=False)


def rank_channels(
    model: WrappedModel,
    group,
    reference,
    layers: Sequence[str],
    *,
    score: str = "zscore",
    batch_size: int = 16,
    eps: float = 1e-3,
) -> ChannelRanking:
    """Rank every channel of ``layers`` by how much more ``group`` activates it than ``reference``.

    ``group``/``reference``: anything :func:`stochvis.stats.collection.collect` takes (an ImageSet, a
    tensor (N, C, H, W) in [0, 1], batches), or already collected :class:`Statistics` of those layers.
    ``score``: "zscore" (group mean − reference mean) / reference std (default: comparable across
    layers and channels of different scales), "difference" (of the means), "ratio" (group mean ÷
    reference mean) or "group" (the group mean alone: the report's plain "most activated").
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}: use one of {', '.join(SCORES)}")
    if not layers:
        raise ValueError("give at least one layer to rank")
    for layer in layers:
        model.resolve(layer)  # KeyError naming the valid layers
    group_stats = group if isinstance(group, Statistics) else _pooled_stats(model, group, layers, batch_size, "group")
    reference_stats = (reference if isinstance(reference, Statistics)
                       else _pooled_stats(model, reference, layers, batch_size, "reference"))
    group_mean, reference_mean, reference_std, scores = {}, {}, {}, {}
    for layer in layers:
        g = group_stats[f"{layer}/pooled"]
        r = reference_stats[f"{layer}/pooled"]
        gm, rm = g.mean.float().cpu(), r.mean.float().cpu()
        rs = r.std().float().cpu() if r.count > 1 else torch.ones_like(rm)
        if score == "zscore":
            value = (gm - rm) / (rs + eps)
        elif score == "difference":
            value = gm - rm
        elif score == "ratio":
            value = gm / (rm.abs() + eps)
        else:
            value = gm
        group_mean[layer], reference_mean[layer], reference_std[layer], scores[layer] = gm, rm, rs, value
    return ChannelRanking(list(layers), group_mean, reference_mean, reference_std, scores, score)


def mixture_objective(
    ranking: ChannelRanking,
    k: int | Mapping[str, int] = 10,
    weights: Mapping[str, float] | None = None,
) -> Objective:
    """Σ_layers w_l · mean over the top-k channels of (activation − reference mean) / reference std.

    Each channel is measured in its own reference units so that no layer or channel wins by scale
    alone; ``weights`` (default 1 per layer; 0 drops a layer) set the mix between lower, middle and
    higher layers, as the report weighs middle layers more.
    """
    chosen = ranking.top(k)
    weights = dict(weights or {})
    unknown = set(weights) - set(ranking.layers)
    if unknown:
        raise KeyError(f"weights for layers that were not ranked: {sorted(unknown)}; ranked: {ranking.layers}")
    terms = []
    for layer, channels in chosen.items():
        weight = float(weights.get(layer, 1.0))
        if weight == 0:
            continue
        offset = ranking.reference_mean[layer][channels]
        scale = ranking.reference_std[layer][channels] + 1e-3
        terms.append(weight * _channels_objective(layer, channels, offset, scale))
    if not terms:
        raise ValueError("no channel selected: every layer has k = 0 or weight 0")
    return sum(terms)


def _channels_objective(layer: str, channels: torch.Tensor, offset: torch.Tensor, scale: torch.Tensor) -> Objective:
    def fn(acts: Activations) -> torch.Tensor:
        act = acts[layer]
        picked = act[:, channels.to(act.device)].float()
        means = picked.flatten(2).mean(2) if picked.dim() > 2 else picked
        return ((means - offset.to(act.device)) / scale.to(act.device)).mean(1)

    return Objective(fn, [layer], f"top{len(channels)}({layer})")


def selection_table(ranking: ChannelRanking, k: int | Mapping[str, int] = 10) -> list[dict]:
    """Rows (layer, channel, score, group mean, reference mean) of the chosen channels, for display."""
    rows = []
    for layer, channels in ranking.top(k).items():
        for c in channels.tolist():
            rows.append(dict(layer=layer, channel=c, score=float(ranking.score[layer][c]),
                             group_mean=float(ranking.group_mean[layer][c]),
                             reference_mean=float(ranking.reference_mean[layer][c])))
    return rows


__all__ = ["ChannelRanking", "mixture_objective", "rank_channels", "selection_table"]
