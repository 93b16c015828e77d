"""What a foreign ``nn.Module`` says about itself, read once when it is wrapped or first used: its declared input
size (and whether it insists on it), its classifier head, and the smallest image it can read.

Why here and not in :mod:`stochvis.models`: these are guesses from other libraries' conventions (torchvision's
``VisionTransformer.image_size``, timm's ``patch_embed.strict_img_size``), each stated where it is made; the
wrapper only records the answers.

- **Declared size**: torchvision's ``VisionTransformer`` asserts ``image_size`` (``Wrong image height!``) and
  timm's ViTs with ``strict_img_size`` refuse any other size, so :func:`declared_input` reports their size as
  *fixed*: the wrapper then resizes every batch to it inside its forward (bilinear, antialiased when shrinking),
  as Lucent does, instead of crashing. Any other module: nothing declared (224×224, not fixed, unless
  ``wrap_model(input_size=, fixed_size=)`` says otherwise).
- **Head**: :func:`head_size` runs one forward at the input size; an output of shape ``(1, K)`` is a K-way
  classifier head, anything else (maps, several outputs) is no head.
- **Minimum image side** (:func:`minimum_side`): half the network's total stride S (:func:`total_stride`: the input
  side over the smallest spatial map any module produces at the native size, global pools excluded). Below S/2
  the two deepest resolutions (S/2 and S) both get less than one pixel of image — they read padding, not the
  image — so such images are refused: an 8×8 or 2×2 image into a 224-px ResNet (S = 32, minimum 16). Between
  S/2 and S the deepest maps are a single, partly padded pixel: allowed (an optimiser's first octave, a
  thumbnail measured by a judge), though far from what the network was trained on.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict

import torch
from torch import nn
from torch.nn import functional as F

_MINIMUM: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> minimum side, measured once


def declared_input(net: nn.Module) -> tuple[tuple[int, int], bool] | None:
    """((H, W), fixed) a network declares, or None (module rule)."""
    size = getattr(net, "image_size", None)
    if isinstance(size, int) and hasattr(net, "patch_size") and hasattr(net, "conv_proj"):  # torchvision ViT
        return (size, size), True
    embed = getattr(net, "patch_embed", None)
    img_size = getattr(embed, "img_size", None)
    if img_size is not None:  # timm ViT-style patch embedding
        h, w = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        return (int(h), int(w)), bool(getattr(embed, "strict_img_size", False)) and not getattr(
            embed, "dynamic_img_pad", False)
    return None


def resize_to(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``images`` at ``size`` (bilinear; antialiased when shrinking), unchanged when they have it already."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    shrink = images.shape[-2] > size[0] or images.shape[-1] > size[1]
    return F.interpolate(images, size=tuple(size), mode="bilinear", align_corners=False, antialias=shrink)


@torch.no_grad()
def head_size(model) -> int | None:
    """K for a model whose output at its input size is ``(1, K)`` class scores; None otherwise (or when the
    probe forward fails)."""
    try:
        output = model(torch.zeros(1, model.in_channels, *model.input_size, device=model.device))
    except Exception:  # noqa: BLE001 - a model that cannot run at its declared size tells nothing here
        return None
    return int(output.shape[1]) if isinstance(output, torch.Tensor) and output.dim() == 2 else None


def minimum_side(model) -> int:
    """The smallest image side ``model`` reads: ⌈S/2⌉ for its total stride S (module rule); 1 when unknown."""
    return max(1, -(-total_stride(model) // 2))


def total_stride(model) -> int:
    """S: the input side over the smallest non-global spatial map at the native size, measured once per model;
    1 when unknown."""
    cached = _MINIMUM.get(model)
    if cached is not None:
        return cached
    smallest: list[int] = []

    def hook(module, _inputs, output):
        if "adaptive" in type(module).__name__.lower():  # global pooling: 1×1 by design, not by stride
            return
        out = output[0] if isinstance(output, (tuple, list)) and output else output
        if isinstance(out, torch.Tensor) and out.dim() == 4:
            smallest.append(min(int(out.shape[-2]), int(out.shape[-1])))

    net = getattr(model, "net", None)
    side = 1
    if net is not None:
        modules = [module for path, module in net.named_modules() if path]
        # The probe must be invisible: hooks of a capture or a reroute in progress are set aside for it.
        saved = [(module, module._forward_hooks, module._forward_pre_hooks) for module in modules]
        try:
            for module in modules:
                module._forward_hooks, module._forward_pre_hooks = OrderedDict(), OrderedDict()
                module.register_forward_hook(hook)
            with torch.no_grad():
                model(torch.zeros(1, model.in_channels, *model.input_size, device=model.device))
            if smallest:
                side = max(1, round(min(model.input_size) / max(1, min(smallest))))
        except Exception:  # noqa: BLE001 - no measurement, no refusal
            side = 1
        finally:
            for module, forward_hooks, pre_hooks in saved:
                module._forward_hooks, module._forward_pre_hooks = forward_hooks, pre_hooks
    try:
        _MINIMUM[model] = side
    except TypeError:  # not weak-referenceable: measured again next time
        pass
    return side
