"""Magnitude spectra for MACO measured from the image sets available offline, cached on disk.

:func:`stochvis.optvis.maco.measure_spectrum` averages |rfft2| over any image set; this module says
*which* image sets, and keeps the results under ``stochvis.assets.home() / "spectra"`` like the class
statistics are kept (safetensors + metadata + content hash, written atomically by
:meth:`MagnitudeSpectrum.save`):

* ``"natural"`` — every natural photo at hand: the 20 foolbox ImageNet photos, scikit-image's colour
  photos (:data:`NATURAL_SKIMAGE`) and the Tux Paint composites of every installed category (photo
  cut-outs on smooth backgrounds; one composite per cut-out). The magnitude MACO is usually run with.
* a **class** source — ``"tuxpaint:<category>"`` (that category's composites, several per cut-out)
  or ``"fashion:<class name>"`` (Fashion-MNIST training images of that class, 1 channel): the
  "class-measured" magnitude. :data:`IMAGENET_SOURCES` maps the ImageNet classes for which such a set
  exists (birds → goldfinch, robin...; fruit → Granny Smith, strawberry...) to their source;
  :func:`class_source` looks a class up.

:func:`spectrum` builds or loads one; :func:`radial_profile` and :func:`spectral_slope` describe it
(natural images: amplitude ∝ f^α with α ≈ −1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import torch

from stochvis import assets
from stochvis.optvis.maco import MagnitudeSpectrum, Size, _pair, measure_spectrum

NATURAL = "natural"
NATURAL_SKIMAGE = ("astronaut", "chelsea", "coffee", "rocket", "cat")  # the colour photographs among skimage.data
CACHE_VERSION = 1
CLASS_PER_IMAGE = 4  # composites per Tux Paint cut-out for a class spectrum (random scale, position, background)

# ImageNet class → the offline image set of the same kind of object (Tux Paint category).
IMAGENET_SOURCES: dict[str, str] = {
    **{name: "tuxpaint:birds" for name in ("goldfinch", "robin", "jay", "house finch", "hummingbird", "ostrich",
                                           "flamingo")},
    **{name: "tuxpaint:fruit" for name in ("Granny Smith", "strawberry", "orange", "lemon", "banana", "pineapple",
                                           "pomegranate", "fig")},
    **{name: "tuxpaint:vegetables" for name in ("broccoli", "cauliflower", "bell pepper", "head cabbage", "cucumber",
                                                "zucchini")},
    **{name: "tuxpaint:flowers" for name in ("daisy",)},
    **{name: "tuxpaint:fish" for name in ("goldfish", "tench")},
    **{name: "tuxpaint:insects" for name in ("bee", "ladybug", "monarch")},
}


def class_source(imagenet_class: str) -> str | None:
    """The class source (``"tuxpaint:<category>"``) for an ImageNet class, None where none exists offline."""
    return IMAGENET_SOURCES.get(imagenet_class)


def natural_images(size: int | Size) -> torch.Tensor:
    """All natural photos available offline, (N, 3, h, w) in [0, 1] (see the module note)."""
    from stochvis import data

    h, w = _pair(size)
    parts = [data.foolbox_imagenet().tensors((h, w))[0], data.skimage_photos(list(NATURAL_SKIMAGE)).tensors((h, w))[0]]
    categories = list(data.tuxpaint_categories())
    if categories:
        parts.append(data.tuxpaint(categories, per_image=1, size=max(h, w), seed=0).tensors((h, w))[0])
    return torch.cat(parts)


def class_images(source: str, size: int | Size) -> torch.Tensor:
    """The images of a class source: ``"tuxpaint:<category>"`` or ``"fashion:<class name>"``, in [0, 1]."""
    from stochvis import data

    kind, _, name = source.partition(":")
    h, w = _pair(size)
    if kind == "tuxpaint":
        return data.tuxpaint([name], per_image=CLASS_PER_IMAGE, size=max(h, w), seed=0).tensors((h, w))[0]
    if kind == "fashion":
        if name not in data.FASHION_CLASSES:
            raise KeyError(f"no Fashion-MNIST class {name!r}; choose from {', '.join(data.FASHION_CLASSES)}")
        images, labels = data.fashion_mnist("train")
        chosen = data.as_float_images(images[labels == data.FASHION_CLASSES.index(name)])
        chosen = chosen.unsqueeze(1) if chosen.dim() == 3 else chosen
        return chosen
    raise ValueError(f"unknown spectrum source {source!r}: use {NATURAL!r}, 'tuxpaint:<category>' or "
                     "'fashion:<class name>' (ImageNet classes: class_source(name))")


def describe(source: str) -> str:
    """The free-text ``source`` stored in the spectrum file: what was measured, so a cached file built
    from another recipe is not taken for this one."""
    if source == NATURAL:
        return (f"natural photos v{CACHE_VERSION}: foolbox_imagenet + skimage[{','.join(NATURAL_SKIMAGE)}] "
                "+ tuxpaint[all categories, per_image=1, seed=0]")
    kind = source.partition(":")[0]
    if kind == "tuxpaint":
        return f"{source} v{CACHE_VERSION}: per_image={CLASS_PER_IMAGE}, seed=0"
    return f"{source} v{CACHE_VERSION}: training split"


def cache_path(source: str, size: int | Size, root: str | Path | None = None) -> Path:
    """Where :func:`spectrum` keeps ``source`` at ``size``: ``<root or home()/spectra>/<slug>_<h>x<w>.safetensors``."""
    h, w = _pair(size)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", source).strip("_").lower()
    folder = Path(root) if root is not None else assets.home() / "spectra"
    return folder / f"{slug}_{h}x{w}_v{CACHE_VERSION}.safetensors"


def spectrum(
    source: str = NATURAL,
    size: int | Size = 128,
    *,
    cache: bool = True,
    root: str | Path | None = None,
    images: Callable[[str, Size], torch.Tensor] | None = None,
) -> MagnitudeSpectrum:
    """The magnitude spectrum of ``source`` (``"natural"``, ``"tuxpaint:<category>"``,
    ``"fashion:<class>"``, or an ImageNet class listed in :data:`IMAGENET_SOURCES`) at ``size``.

    With ``cache`` the file :func:`cache_path` is read when it holds this source at this size (a corrupt,
    truncated or foreign file is measured again and replaced), otherwise measured and saved atomically.
    ``images(source, size)``: the image loader (default: :func:`natural_images` / :func:`class_images`)."""
    if source != NATURAL and ":" not in source:
        mapped = class_source(source)
        if mapped is None:
            raise KeyError(f"no offline image set for class {source!r}; classes with one: "
                           f"{', '.join(sorted(IMAGENET_SOURCES))}")
        source = mapped
    size = _pair(size)
    expected = describe(source)
    path = cache_path(source, size, root)
    if cache and path.exists():
        try:
            stored = MagnitudeSpectrum.load(path)
            if stored.size == size and stored.source == expected:
                return stored
        except ValueError:
            pass  # corrupt or foreign: measured again below
    loader = images or (lambda s, z: natural_images(z) if s == NATURAL else class_images(s, z))
    measured = measure_spectrum(loader(source, size), size, source=expected)
    if cache:
        measured.save(path)
    return measured


def natural_spectrum(size: int | Size = 128, **options) -> MagnitudeSpectrum:
    """:func:`spectrum` of ``"natural"``."""
    return spectrum(NATURAL, size, **options)


def radial_profile(spec: MagnitudeSpectrum) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean amplitude (over channels and orientations) in rings of radial frequency, DC left out:
    ``(frequency in cycles per pixel, amplitude)``, both float64, one ring per integer radius in the
    shorter side's frequency bins up to its Nyquist."""
    h, w = spec.size
    fy = torch.fft.fftfreq(h, dtype=torch.float64).view(-1, 1)
    fx = torch.fft.rfftfreq(w, dtype=torch.float64).view(1, -1)
    radius = torch.sqrt(fy**2 + fx**2)  # cycles per pixel
    amplitude = spec.magnitude.double().mean(0)
    step = 1.0 / min(h, w)
    rings = torch.round(radius / step).long()
    freqs, values = [], []
    for ring in range(1, min(h, w) // 2 + 1):
        inside = rings == ring
        if inside.any():
            freqs.append(ring * step)
            values.append(amplitude[inside].mean())
    return torch.tensor(freqs, dtype=torch.float64), torch.stack(values)


def spectral_slope(spec: MagnitudeSpectrum, band: tuple[float, float] = (0.02, 0.25)) -> float:
    """The exponent α of amplitude ∝ f^α: least-squares slope of log amplitude against log frequency over
    the rings with ``band[0] ≤ f ≤ band[1]`` cycles per pixel (natural photos: α ≈ −1)."""
    freqs, values = radial_profile(spec)
    keep = (freqs >= band[0]) & (freqs <= band[1]) & (values > 0)
    if int(keep.sum()) < 2:
        raise ValueError(f"fewer than two frequency rings in {band} cycles/pixel for a {spec.size} spectrum")
    x, y = freqs[keep].log(), values[keep].log()
    x = x - x.mean()
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())
    return slope if math.isfinite(slope) else math.nan
