"""Feature accentuation (Hamblin, Fel, Saha, Konkle & Alvarez 2024, "Feature Accentuation: Revealing
'What' Features Respond to in Natural Images"): start from a seed image and push a unit up, while an
anchor keeps the activations of an intermediate layer close to the seed's. The result shows what the
unit responds to *in this image* (its parts made stronger), instead of a new image drawn from
scratch; without the anchor the optimisation drifts to a generic feature visualisation.

:func:`activation_anchor` is the anchor as an :class:`~stochvis.optvis.objectives.Objective` term,
to add to the unit's objective; ``presets.accentuate`` runs the whole recipe.
"""

from __future__ import annotations

import torch

from stochvis.layers import capture
from stochvis.models import WrappedModel
from stochvis.optvis.objectives import Activations, Objective


def activation_anchor(model: WrappedModel, layer: str, seed_images: torch.Tensor, weight: float = 1.0) -> Objective:
    """−weight · ‖a(x) − a(x₀)‖₂ / ‖a(x₀)‖₂ per image, a = the activations of ``layer`` (all channels
    and positions), x₀ = ``seed_images`` (N, C, H, W) or (C, H, W) in [0, 1], image i anchored to seed i.

    Why this form: the paper penalises the L2 distance of the activations to the seed's (faccent's
    ``l2_compare``); dividing by the seed's activation norm makes it a *relative* distance, so one
    ``weight`` means the same at any layer and for any seed (faccent instead rescales its weight by a
    gradient ratio measured at the start). Not squared: the pull back towards the seed does not vanish
    near it, so small drifts are resisted as firmly as large ones.

    Exactly 0 when the activations are those of the seed (same images, same size, no transforms,
    float32), negative otherwise; its gradient at the seed is 0 (the norm's subgradient). The seed's
    activations are computed once, here, at the seed's size: optimise images of that size, and keep
    transforms (jitter, crops) out or small, since they change a(x) but not a(x₀).
    """
    model.resolve(layer)  # KeyError naming the closest layers, before any work
    seeds = seed_images.unsqueeze(0) if seed_images.dim() == 3 else seed_images
    if seeds.dim() != 4:
        raise ValueError(f"seed images must be (N, C, H, W) or (C, H, W), got {tuple(seed_images.shape)}")
    with torch.no_grad():
        reference = capture(model, seeds.to(model.device, torch.float32), [layer])[layer].detach().float()
    scale = reference.flatten(1).norm(dim=1).clamp_min(1e-12)
    weight = float(weight)

    def fn(acts: Activations) -> torch.Tensor:
        act = acts[layer].float()
        if act.shape != reference.shape:
            raise ValueError(f"the anchor at {layer!r} holds activations {tuple(reference.shape)} of the seed images, "
                             f"the optimised images give {tuple(act.shape)}: optimise as many images as seeds, at the "
                             "seeds' size (params.pixel(init=seeds) does both)")
        distance = (act - reference.to(act.device)).flatten(1).norm(dim=1)
        return -weight * distance / scale.to(act.device)

    return Objective(fn, [layer], f"anchor({layer}, {weight:g})")


__all__ = ["activation_anchor"]
