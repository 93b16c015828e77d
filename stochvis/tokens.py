"""Token layouts: where a transformer's activation keeps its channels and its positions. **The** rule every
stage that reads a layer's channels or positions calls (channel checks, objectives, pooled and grid statistics,
activation figures).

A 3-D activation ``(N, T, D)`` is a sequence of ``T`` tokens of ``D`` hidden units (torchvision's and timm's
vision transformers are batch-first; a Conv1d's ``(N, C, L)`` is not met in the image models this package
wraps). Then:

- **channel** = hidden unit, the last axis (``D``), never the token: ``("encoder.layers.encoder_layer_1", 7)``
  is hidden unit 7, and a layer "has D channels".
- **positions** = the *patch* tokens, laid out on their patch grid ``(h, w)`` (row-major, as the patch embedding
  flattens them), so ``(layer, unit, y, x)`` is unit ``unit`` of the patch token in row ``y``, column ``x``.
- **prefix tokens** (the class token, distillation or register tokens) are excluded from every spatial reading:
  a channel's mean, pooled statistics (``"<layer>/pooled"``: the mean over patch tokens), grids, neuron
  positions. Their count is the model's declared one (``WrappedModel.token_prefix``: 1 for torchvision's
  ``VisionTransformer``, timm's ``num_prefix_tokens``), else read from the shape: ``T`` minus the largest square
  ``≤ T`` when that leaves at most :data:`MAX_PREFIX` tokens (50 → 1 class token and 7×7 patches; 196 → none).
  The class token's own units stay reachable as a flat readout: :func:`prefix` gives ``(N, prefix, D)``.
- the **grid** ``(h, w)``: the model's declared one (``WrappedModel.token_grid``) when the patch count fits it,
  else the divisor pair of the patch count closest to the input's aspect ratio (a square for a square count).

4-D ``(N, C, H, W)`` maps and 2-D ``(N, C)`` vectors are returned unchanged by every function here.
"""

from __future__ import annotations

import math

import torch

MAX_PREFIX = 8  # at most this many non-patch tokens are inferred from a shape alone


def is_tokens(activation: torch.Tensor) -> bool:
    """True for a token sequence ``(N, T, D)``."""
    return activation.dim() == 3


def channel_count(shape) -> int:
    """The number of channels of a layer from its shape *without* the batch axis: ``C`` of ``(C, H, W)`` or
    ``(C,)``, the hidden size ``D`` of a token sequence ``(T, D)``."""
    shape = tuple(shape)
    if not shape:
        raise ValueError("a layer with a scalar output per image has no channels")
    return int(shape[-1]) if len(shape) == 2 else int(shape[0])


def prefix_count(tokens: int, model=None) -> int:
    """How many leading tokens are not patches (class, distillation, register tokens); see the module rule."""
    declared = getattr(model, "token_prefix", None)
    if declared is not None:
        if not 0 <= int(declared) < tokens:
            raise ValueError(f"the model declares {declared} prefix token(s) but the layer has {tokens} tokens")
        return int(declared)
    extra = tokens - math.isqrt(tokens) ** 2
    return extra if extra <= MAX_PREFIX and extra < tokens else 0


def patch_grid(count: int, model=None) -> tuple[int, int]:
    """(h, w) with h·w = ``count`` patch tokens: the model's declared grid when it fits, else the divisor pair
    closest to the model's input aspect ratio (square without a model)."""
    declared = getattr(model, "token_grid", None)
    if declared is not None and int(declared[0]) * int(declared[1]) == count:
        return int(declared[0]), int(declared[1])
    size = getattr(model, "input_size", None)
    aspect = size[0] / size[1] if size else 1.0
    pairs = [(h, count // h) for h in range(1, count + 1) if count % h == 0]
    return min(pairs, key=lambda hw: (round(abs(math.log(hw[0] / hw[1]) - math.log(aspect)), 9), hw[0]))  # tie: wide


def patches(activation: torch.Tensor, model=None) -> torch.Tensor:
    """``(N, P, D)``: the patch tokens of a token sequence, prefix tokens dropped."""
    return activation[:, prefix_count(activation.shape[1], model):]


def prefix(activation: torch.Tensor, model=None) -> torch.Tensor:
    """``(N, prefix, D)``: the prefix tokens (the class token first), empty when there are none."""
    return activation[:, :prefix_count(activation.shape[1], model)]


def as_map(activation: torch.Tensor, model=None) -> torch.Tensor:
    """Channels first with positions behind them: a token sequence ``(N, T, D)`` → ``(N, D, h, w)`` over its patch
    tokens (module rule); any other activation unchanged."""
    if not is_tokens(activation):
        return activation
    tokens = patches(activation, model)
    if tokens.shape[1] == 0:
        raise ValueError(f"a token sequence of shape {tuple(activation.shape[1:])} has no patch tokens")
    h, w = patch_grid(tokens.shape[1], model)
    return tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], h, w)


def pooled(activation: torch.Tensor, model=None) -> torch.Tensor:
    """``(N, C)`` channel means: over (H, W) of a map, over the patch tokens of a sequence (class token
    excluded), the vector itself for ``(N, C)``."""
    if is_tokens(activation):
        return patches(activation, model).mean(1)
    return activation.flatten(2).mean(2) if activation.dim() > 2 else activation.flatten(1)


def map_shape(shape, model=None) -> tuple[int, ...]:
    """The shape :func:`as_map` gives, without the batch axis: ``(T, D)`` → ``(D, h, w)``; others unchanged."""
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2:
        return shape
    count = shape[0] - prefix_count(shape[0], model)
    return (shape[1], *patch_grid(count, model))


def declared_layout(net) -> tuple[int | None, tuple[int, int] | None]:
    """(prefix tokens, patch grid) a transformer declares about itself: torchvision's ``VisionTransformer``
    (``class_token``, ``image_size // patch_size``), timm's ViTs (``num_prefix_tokens``,
    ``patch_embed.grid_size``); (None, None) for anything else (the shape rule applies)."""
    if hasattr(net, "class_token") and hasattr(net, "image_size") and hasattr(net, "patch_size"):
        side = int(net.image_size) // int(net.patch_size)
        return 1, (side, side)
    if hasattr(net, "num_prefix_tokens") and hasattr(net, "patch_embed"):
        grid = getattr(net.patch_embed, "grid_size", None)
        return int(net.num_prefix_tokens), (tuple(int(v) for v in grid) if grid is not None else None)
    return None, None
