"""Magnitude spectra for MACO cached on disk, and how to describe one (radial profile, 1/f slope).

:func:`stochvis.optvis.maco.measure_spectrum` averages |rfft2| over any image set; :func:`cached_spectrum`
keeps the result of a named image set under ``stochvis.assets.home() / "spectra"`` like the class statistics
are kept (safetensors + metadata + content hash, written atomically by :meth:`MagnitudeSpectrum.save`), and
measures again when the stored file describes another recipe. *Which* image sets exist offline is a
world's business (:mod:`stochvis.worlds.spectra`), not the optimisation stage's.

:func:`radial_profile` and :func:`spectral_slope` describe a spectrum (natural images: amplitude ∝ f^α
with α ≈ −1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import torch

from stochvis import assets
from stochvis.inputs import image_size
from stochvis.optvis.maco import MagnitudeSpectrum, Size, measure_spectrum


def cache_path(source: str, size: int | Size, root: str | Path | None = None, *, version: int = 1) -> Path:
    """Where a spectrum of ``source`` at ``size`` is kept:
    ``<root or home()/spectra>/<slug>_<h>x<w>_v<version>.safetensors``."""
    h, w = image_size(size, what="a spectrum's size", minimum=2)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", source).strip("_").lower()
    folder = Path(root) if root is not None else assets.home() / "spectra"
    return folder / f"{slug}_{h}x{w}_v{version}.safetensors"


def cached_spectrum(source: str, size: int | Size, images: Callable[[str, Size], torch.Tensor], *, description: str,
                    cache: bool = True, root: str | Path | None = None, version: int = 1) -> MagnitudeSpectrum:
    """The magnitude spectrum of the image set ``source`` at ``size``: ``images(source, size)`` loads the set
    and ``description`` (stored in the file) says what was measured, so a cached file built from another
    recipe is not taken for this one. With ``cache`` the file :func:`cache_path` is read when it holds this
    description at this size (a corrupt, truncated or foreign file is measured again and replaced),
    otherwise measured and saved atomically."""
    size = image_size(size, what="a spectrum's size", minimum=2)
    path = cache_path(source, size, root, version=version)
    if cache and path.exists():
        try:
            stored = MagnitudeSpectrum.load(path)
            if stored.size == size and stored.source == description:
                return stored
        except ValueError:
            pass  # corrupt or foreign: measured again below
    measured = measure_spectrum(images(source, size), size, source=description)
    if cache:
        measured.save(path)
    return measured


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
