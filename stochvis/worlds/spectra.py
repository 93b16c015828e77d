"""Which offline image sets MACO's magnitude spectra are measured from (the cache itself is
:func:`stochvis.optvis.spectra.cached_spectrum`).

* ``"natural"`` — every natural photo at hand: the 20 foolbox ImageNet photos, scikit-image's colour
  photos (:data:`NATURAL_SKIMAGE`) and the Tux Paint composites of every installed category (photo
  cut-outs on smooth backgrounds; one composite per cut-out). The magnitude MACO is usually run with.
* a **class** source — ``"tuxpaint:<category>"`` (that category's composites, several per cut-out)
  or ``"fashion:<class name>"`` (Fashion-MNIST training images of that class, 1 channel): the
  "class-measured" magnitude. :data:`IMAGENET_SOURCES` maps the ImageNet classes for which such a set
  exists (birds → goldfinch, robin...; fruit → Granny Smith, strawberry...) to their source;
  :func:`class_source` looks a class up.

Why a world: the optimisation stage must not know which data sets exist; the notebooks and experiments
that need a natural or a class magnitude ask here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from stochvis import data
from stochvis.inputs import as_float_images, image_size
from stochvis.optvis.maco import MagnitudeSpectrum, Size
from stochvis.optvis.spectra import cache_path as _generic_cache_path
from stochvis.optvis.spectra import cached_spectrum

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
    h, w = image_size(size, what="a spectrum's size", minimum=2)
    parts = [data.foolbox_imagenet().tensors((h, w))[0], data.skimage_photos(list(NATURAL_SKIMAGE)).tensors((h, w))[0]]
    categories = list(data.tuxpaint_categories())
    if categories:
        parts.append(data.tuxpaint(categories, per_image=1, size=max(h, w), seed=0).tensors((h, w))[0])
    return torch.cat(parts)


def class_images(source: str, size: int | Size) -> torch.Tensor:
    """The images of a class source: ``"tuxpaint:<category>"`` or ``"fashion:<class name>"``, in [0, 1]."""
    kind, _, name = source.partition(":")
    h, w = image_size(size, what="a spectrum's size", minimum=2)
    if kind == "tuxpaint":
        return data.tuxpaint([name], per_image=CLASS_PER_IMAGE, size=max(h, w), seed=0).tensors((h, w))[0]
    if kind == "fashion":
        if name not in data.FASHION_CLASSES:
            raise KeyError(f"no Fashion-MNIST class {name!r}; choose from {', '.join(data.FASHION_CLASSES)}")
        images, labels = data.fashion_mnist("train")
        chosen = as_float_images(images[labels == data.FASHION_CLASSES.index(name)])
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
    """Where :func:`spectrum` keeps ``source`` at ``size``."""
    return _generic_cache_path(source, size, root, version=CACHE_VERSION)


def spectrum(
    source: str = NATURAL,
    size: int | Size = 128,
    *,
    cache: bool = True,
    root: str | Path | None = None,
    images: Callable[[str, Size], torch.Tensor] | None = None,
) -> MagnitudeSpectrum:
    """The magnitude spectrum of ``source`` (``"natural"``, ``"tuxpaint:<category>"``,
    ``"fashion:<class>"``, or an ImageNet class listed in :data:`IMAGENET_SOURCES`) at ``size``, cached
    (:func:`stochvis.optvis.spectra.cached_spectrum`). ``images(source, size)``: the image loader
    (default: :func:`natural_images` / :func:`class_images`)."""
    if source != NATURAL and ":" not in source:
        mapped = class_source(source)
        if mapped is None:
            raise KeyError(f"no offline image set for class {source!r}; classes with one: "
                           f"{', '.join(sorted(IMAGENET_SOURCES))}")
        source = mapped
    loader = images or (lambda s, z: natural_images(z) if s == NATURAL else class_images(s, z))
    return cached_spectrum(source, size, loader, description=describe(source), cache=cache, root=root,
                           version=CACHE_VERSION)


def natural_spectrum(size: int | Size = 128, **options) -> MagnitudeSpectrum:
    """:func:`spectrum` of ``"natural"``."""
    return spectrum(NATURAL, size, **options)
