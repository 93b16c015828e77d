"""The one gate for images at the model boundary.

Why one gate: every stage assumes float images in [0, 1] with the model's channel count, and a
uint8 batch, a 0..255 float batch or an ImageNet-normalised tensor run through a network without
any error — they just give wrong numbers (a logit of 5.58 instead of −0.11). Here what is
unambiguous is converted (uint8 → /255, numpy → tensor, float64 → float32, (C, H, W) → a batch of
one, grey → RGB when asked) and everything else is refused with a sentence saying what was given
and what is valid. :func:`check_images` is called by ``layers.capture``, the attribution gradients,
the statistics collection and ``Statistics.vectors``; :func:`check_image_batch` is its model-free
half, for image inputs that exist before a model is known (``params.pixel(init=...)``).
"""

from __future__ import annotations

import operator

import numpy as np
import torch

RANGE_TOLERANCE = 1e-3  # numeric overshoot of [0, 1] accepted (resampling, float rounding)


def check_image_batch(
    images,
    *,
    channels: int | None = None,
    name: str = "images",
    first_index: int = 0,
    check_values: bool = True,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``images`` as a float (N, C, H, W) tensor in [0, 1], or an error naming what is wrong.

    ``channels`` (when known) is checked; ``first_index`` offsets the image index named in errors
    (for callers that stream batches). Tensors that require grad are an optimiser's own images
    (param outputs, SmoothGrad's noisy copies, legitimately outside [0, 1] mid-transform): their
    values are not checked, and checking them would cost a device sync per step.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a tensor (N, C, H, W) or (C, H, W) of floats in [0, 1] (or uint8), "
                        f"got {type(images).__name__}; PIL images go through model.preprocess")
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dim() != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W) or (C, H, W), got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        images = as_float_images(images)
    elif not images.dtype.is_floating_point:
        raise TypeError(f"{name} have dtype {images.dtype}: use floats in [0, 1] or uint8 in 0..255 "
                        "(other integer or bool types are ambiguous)")
    wanted = dtype or (torch.float32 if images.dtype == torch.float64 else images.dtype)
    if images.dtype != wanted:
        images = images.to(wanted)
    if channels is not None and images.shape[1] != channels:
        raise ValueError(_channel_message(images.shape, channels, name))
    if check_values and not images.requires_grad:
        _check_values(images, name, first_index)
    return images


def check_images(
    model,
    images,
    *,
    grey_to_rgb: bool = False,
    name: str = "images",
    first_index: int = 0,
) -> torch.Tensor:
    """``images`` ready for ``model`` (a WrappedModel): float (N, model.in_channels, H, W) in [0, 1]
    on the model's device, or a ValueError/TypeError that says what was given and what is valid.

    Converts: uint8 → /255 (``data.as_float_images``), numpy → tensor, float64 → float32, (C, H, W)
    → a batch of one, floats to the model's dtype (float32 unless it was made double), and with ``grey_to_rgb`` a 1-channel image for a 3-channel model. Refuses:
    values outside [0, 1] (beyond a 1e-3 tolerance: 0..255 floats, normalised tensors), NaN/Inf
    (naming the first bad image), wrong channel counts (RGBA, channels-last), other dtypes, and images smaller
    than the model's minimum side (half its total stride, :func:`stochvis.model_facts.minimum_side`).
    """
    channels = int(getattr(model, "in_channels", 3))
    mean = getattr(model, "mean", None)
    dtype = mean.dtype if isinstance(mean, torch.Tensor) and mean.dtype.is_floating_point else None
    images = check_image_batch(images, name=name, first_index=first_index, check_values=False, dtype=dtype)
    if grey_to_rgb and channels == 3 and images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if images.shape[1] != channels:
        raise ValueError(_channel_message(images.shape, channels, name, getattr(model, "name", "the model")))
    if not images.requires_grad:  # an optimiser's own images (octaves, crops) are not the caller's to size
        _check_values(images, name, first_index)
        _check_size(model, images, name)
    device = getattr(model, "device", None)
    return images.to(device) if device is not None else images


def _channel_message(shape, channels: int, name: str, model_name: str = "the model") -> str:
    given = shape[1]
    text = f"{name} of shape {tuple(shape)} have {given} channel(s) but {model_name} takes {channels} (N, {channels}, H, W)"
    if shape[-1] == channels and given != channels:
        return text + ": they look channels-last (N, H, W, C); use images.permute(0, 3, 1, 2)"
    if given == 4 and channels == 3:
        return text + (": RGBA? composite the alpha on a background with stochvis.inputs.composite_alpha(images) "
                       "(white; background= to choose), or drop it knowingly with images[:, :3]")
    if given == 1 and channels == 3:
        return text + ": a grey image; pass grey_to_rgb=True (or images.expand(-1, 3, -1, -1))"
    if given == 3 and channels == 1:
        return text + ": a grey model; convert, e.g. images.mean(1, keepdim=True), or use model.preprocess"
    return text


def _check_values(images: torch.Tensor, name: str, first_index: int) -> None:
    if images.numel() == 0:
        return
    finite = torch.isfinite(images).flatten(1).all(1)
    if not bool(finite.all()):
        bad = int((~finite).nonzero()[0, 0])
        kind = "NaN" if bool(torch.isnan(images[bad]).any()) else "Inf"
        raise ValueError(f"{name}: image {first_index + bad} contains {kind} "
                         f"({int((~finite).sum())} of {len(images)} images are not finite); images must be finite, in [0, 1]")
    low, high = (float(v) for v in torch.aminmax(images.detach().float()))
    if low >= -RANGE_TOLERANCE and high <= 1 + RANGE_TOLERANCE:
        return
    if low >= -RANGE_TOLERANCE and high > 1.5:
        hint = "they look like 0..255 values stored as floats: divide by 255 (or pass uint8)"
    elif low < -RANGE_TOLERANCE:
        hint = ("they look normalised (mean subtracted, divided by std): pass the plain image in [0, 1]; "
                "the model normalises inside (wrap_model's mean=/std=)")
    else:
        hint = "clamp them to [0, 1] if the overshoot is expected"
    raise ValueError(f"{name} must be in [0, 1], got values in [{low:.4g}, {high:.4g}]: {hint}")


__all__ = ["ALPHA_BACKGROUND", "RANGE_TOLERANCE", "check_image_batch", "check_images", "composite_alpha", "pil_rgb"]


def as_float_images(images: torch.Tensor) -> torch.Tensor:
    """Image batches as float (N, C, H, W): uint8 is divided by 255. The one place bytes become [0, 1]."""
    images = torch.as_tensor(images)
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dim() != 4:
        raise ValueError(f"expected image batches (N, C, H, W), got shape {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    return images.float()


def image_size(size, *, what: str = "size", minimum: int = 1) -> tuple[int, int]:
    """(height, width) from an int (square) or a pair of integers ≥ ``minimum``. **The** size rule of every
    stage (parameterisations, models' input sizes, MACO spectra, image priors): 0, 2.5, True or a triple
    are refused with a sentence naming ``what`` was being sized."""
    pair = (size, size) if not isinstance(size, (tuple, list, torch.Size)) else tuple(size)
    try:
        if len(pair) != 2 or any(isinstance(v, bool) for v in pair):
            raise TypeError
        height, width = (operator.index(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an int or (height, width) of integers, got {size!r}") from None
    if min(height, width) < minimum:
        raise ValueError(f"{what} must be at least {minimum}×{minimum} pixels (height, width), got {size!r}")
    return int(height), int(width)


def as_index(value, what: str = "index") -> int:
    """An integer index (int, numpy integer, integer 0-d tensor); a float such as 1.7 or a bool is
    refused rather than truncated to a different unit."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an integer, got {value!r} ({type(value).__name__}): "
                        "a fractional index names no unit") from None


def _check_size(model, images: torch.Tensor, name: str) -> None:
    """Images smaller than the model's minimum side (half its total stride, :func:`stochvis.model_facts.minimum_side`)
    are refused: its two deepest resolutions would get less than a pixel of image and read padding instead."""
    size = getattr(model, "input_size", None)
    side = min(int(images.shape[-2]), int(images.shape[-1]))
    if size is None or getattr(model, "net", None) is None or side >= min(size):
        return  # the native size or more is always readable; only smaller images need the measured minimum
    from stochvis.model_facts import minimum_side, total_stride

    minimum = minimum_side(model)
    if side < minimum:
        raise ValueError(f"{name} are {images.shape[-2]}×{images.shape[-1]} pixels, below the {minimum}×{minimum} "
                         f"minimum of {getattr(model, 'name', 'the model')} (half its total stride {total_stride(model)}: "
                         "smaller, its two deepest resolutions see less than a pixel of image); resize them up to at "
                         f"least {minimum}×{minimum}, ideally its native {size[0]}×{size[1]} (model.preprocess does)")


# Transparent pixels are composited on white: the page a PNG with transparency is usually seen on (browsers and
# image viewers), and the background of most product photos and cut-outs.
ALPHA_BACKGROUND = (255, 255, 255)


def pil_rgb(image, mode: str = "RGB", background: tuple[int, int, int] = ALPHA_BACKGROUND):
    """A PIL image in ``mode`` ("RGB" or "L"); an image with transparency (RGBA, LA, a palette or grey image with a
    transparent colour) is composited on ``background`` first — PIL's plain ``convert("RGB")`` would drop alpha and
    show whatever colour the transparent pixels happen to hold."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        base = Image.new("RGBA", image.size, (*background, 255))
        image = Image.alpha_composite(base, image.convert("RGBA"))
    return image.convert(mode)  # a loaded copy even in the same mode (a lazily opened file may close)


def composite_alpha(images, background: float | tuple[float, float, float] = 1.0) -> torch.Tensor:
    """RGBA tensors (N, 4, H, W) or (4, H, W) in [0, 1] (uint8 divided by 255) → RGB composited on ``background``
    (default white, as :data:`ALPHA_BACKGROUND`): ``rgb·α + background·(1 − α)``."""
    images = check_image_batch(images, channels=4, name="RGBA images")
    colour = torch.as_tensor(background, dtype=images.dtype, device=images.device).reshape(1, -1, 1, 1)
    alpha = images[:, 3:4]
    return images[:, :3] * alpha + colour * (1 - alpha)
