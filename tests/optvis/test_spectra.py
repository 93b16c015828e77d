"""The spectrum cache and the spectrum's description, on image sets given by the caller."""

from __future__ import annotations

import pytest
import torch

from stochvis.optvis import spectra
from stochvis.optvis.maco import MagnitudeSpectrum, measure_spectrum


def test_cached_spectrum_reads_back_and_remeasures_another_recipe(tmp_path):
    calls = []

    def images(source, size):
        calls.append((source, size))
        return torch.rand(3, 3, *size, generator=torch.Generator().manual_seed(len(calls)))

    first = spectra.cached_spectrum("my photos", (12, 10), images, description="recipe A", root=tmp_path)
    path = spectra.cache_path("my photos", (12, 10), tmp_path)
    assert path.name == "my_photos_12x10_v1.safetensors" and path.exists() and calls == [("my photos", (12, 10))]
    again = spectra.cached_spectrum("my photos", (12, 10), images, description="recipe A", root=tmp_path)
    assert len(calls) == 1 and torch.equal(again.magnitude, first.magnitude)
    spectra.cached_spectrum("my photos", (12, 10), images, description="recipe B", root=tmp_path)
    assert len(calls) == 2 and MagnitudeSpectrum.load(path).source == "recipe B"
    with pytest.raises(ValueError, match="at least 2×2"):
        spectra.cache_path("my photos", 1, tmp_path)


def test_slope_of_known_spectra():
    """White noise is flat (α ≈ 0); a synthetic 1/f² amplitude gives α ≈ −2."""
    noise = measure_spectrum(torch.rand(64, 3, 32, 32, generator=torch.Generator().manual_seed(0)), 32)
    assert abs(spectra.spectral_slope(noise)) < 0.1
    fy = torch.fft.fftfreq(32).view(-1, 1)
    fx = torch.fft.rfftfreq(32).view(1, -1)
    radius = torch.sqrt(fy**2 + fx**2).clamp_min(1 / 32)
    synthetic = MagnitudeSpectrum((radius ** -2).expand(3, -1, -1).clone(), 32, 1)
    assert spectra.spectral_slope(synthetic) == pytest.approx(-2.0, abs=0.1)


