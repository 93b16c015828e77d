"""Which offline image sets spectra are measured from: named sources, cached atomically and faithfully, and
natural photos decay like 1/f."""

from __future__ import annotations

import pytest
import torch

from stochvis.optvis.maco import MagnitudeSpectrum, measure_spectrum
from stochvis.optvis.spectra import radial_profile, spectral_slope
from stochvis.worlds import spectra


def counting_loader(calls: list):
    def images(source, size):
        calls.append((source, size))
        return torch.rand(4, 3, *size, generator=torch.Generator().manual_seed(len(calls)))
    return images


def test_cache_round_trip_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCHVIS_HOME", str(tmp_path))
    calls: list = []
    first = spectra.spectrum("natural", 16, images=counting_loader(calls))
    path = spectra.cache_path("natural", 16)
    assert path.parent == tmp_path / "spectra" and path.exists() and len(calls) == 1
    again = spectra.spectrum("natural", 16, images=counting_loader(calls))
    assert len(calls) == 1  # read back, not measured again
    torch.testing.assert_close(again.magnitude, first.magnitude, rtol=0, atol=0)
    assert (again.size, again.count, again.source) == (first.size, 4, spectra.describe("natural"))
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file of the atomic write is gone
    # another size is another file; a class name resolves to its source
    spectra.spectrum("goldfinch", (16, 12), images=counting_loader(calls))
    assert calls[-1] == ("tuxpaint:birds", (16, 12)) and spectra.cache_path("tuxpaint:birds", (16, 12)).exists()


def test_corrupt_or_foreign_cache_is_measured_again(tmp_path):
    calls: list = []
    spectra.spectrum("tuxpaint:fruit", 8, root=tmp_path, images=counting_loader(calls))
    path = spectra.cache_path("tuxpaint:fruit", 8, tmp_path)
    path.write_bytes(path.read_bytes()[:-10])  # truncated
    rebuilt = spectra.spectrum("tuxpaint:fruit", 8, root=tmp_path, images=counting_loader(calls))
    assert len(calls) == 2 and MagnitudeSpectrum.load(path).source == rebuilt.source
    # a valid file of another recipe at the same path is not taken for this one
    measure_spectrum(torch.rand(2, 3, 8, 8), 8, source="something else").save(path)
    spectra.spectrum("tuxpaint:fruit", 8, root=tmp_path, images=counting_loader(calls))
    assert len(calls) == 3
    # cache=False neither reads nor writes
    spectra.spectrum("fashion:Dress", 8, root=tmp_path, cache=False, images=counting_loader(calls))
    assert not spectra.cache_path("fashion:Dress", 8, tmp_path).exists()


def test_unknown_sources_name_the_valid_ones():
    with pytest.raises(KeyError, match="goldfinch"):
        spectra.spectrum("volcano", 8, cache=False)
    with pytest.raises(ValueError, match="tuxpaint"):
        spectra.class_images("imagenet:volcano", 8)
    assert spectra.class_source("Granny Smith") == "tuxpaint:fruit" and spectra.class_source("volcano") is None


def test_natural_photos_decay_like_a_power_law(tmp_path):
    """Measured on the offline photos (foolbox + skimage + Tux Paint composites, 233 images): α ≈ −1.3 at
    64 and 128 px over 0.02–0.25 cycles/pixel (−1.29 over 0.1–0.5). The bound allows the classic −1 ± 0.3
    spread of natural scenes and rejects white noise (0) and over-smooth sets (≤ −2)."""
    natural = spectra.spectrum("natural", 64, root=tmp_path)
    assert natural.count >= 200 and natural.channels == 3
    slope = spectral_slope(natural)
    assert -2.0 < slope < -0.8, slope
    freqs, amplitude = radial_profile(natural)
    assert bool((amplitude[1:] <= amplitude[:-1] * 1.05).all())  # (nearly) monotone decay, ring to ring
    assert amplitude[0] > 10 * amplitude[-1]
