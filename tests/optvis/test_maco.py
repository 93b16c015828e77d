"""MACO (phase-only Fourier parameterisation): the magnitude really stays fixed, only the phase learns,
spectra are measured and stored faithfully, and a wrong channel count fails before any step."""

from __future__ import annotations

import functools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stochvis.models import wrap_model
from stochvis.optvis import objectives as O
from stochvis.optvis.maco import MacoParam, MagnitudeSpectrum, fft_magnitude, maco, measure_spectrum
from stochvis.optvis.optimize import optimize


def natural_ish(n: int, channels: int, size: int | tuple[int, int] = 16, seed: int = 0) -> torch.Tensor:
    """Images in [0, 1]: a smooth field plus some white noise, so no frequency has a near-zero mean
    amplitude (a float32 image cannot hold a bin far below eps × its RMS to 1e-4 relative)."""
    h, w = (size, size) if isinstance(size, int) else size
    generator = torch.Generator().manual_seed(seed)
    smooth = F.avg_pool2d(torch.rand(n, channels, h + 4, w + 4, generator=generator), 5, 1)
    return (0.6 * smooth + 0.4 * torch.rand(n, channels, h, w, generator=generator)).clamp(0, 1)


def spectrum_of(channels: int, size: int | tuple[int, int] = 16) -> MagnitudeSpectrum:
    return measure_spectrum(natural_ish(8, channels, size), size, source=f"natural_ish {channels}ch")


def assert_fixed_magnitude(param: MacoParam, rtol: float = 1e-4) -> None:
    """|rfft2| of the spatial image equals the fixed magnitude in every bin. The absolute slack is
    float32 rounding of the spatial image (~1e-7 of its size), far below any bin of these spectra."""
    expected = param.magnitude.double().expand(param.batch, -1, -1, -1)
    torch.testing.assert_close(fft_magnitude(param.spatial()), expected, rtol=rtol, atol=1e-7 * expected.max().item())


@pytest.mark.parametrize("channels,size", [(1, 16), (3, 16), (3, (15, 12)), (1, (12, 15))])
def test_magnitude_is_fixed_at_every_nadam_step(channels, size):
    spectrum = spectrum_of(channels, size)
    param = maco(spectrum, batch=2, seed=3)
    h, w = param.size
    optimiser = torch.optim.NAdam(param.parameters(), lr=0.1)
    start = param.phase.detach().clone()
    scores = []
    for _ in range(6):
        assert_fixed_magnitude(param)
        images = param()
        assert images.shape == (2, channels, h, w) and 0 <= images.min() and images.max() <= 1
        score = images[..., : h // 2, : w // 2].mean()  # maximise the top-left quadrant's brightness
        scores.append(score.item())
        optimiser.zero_grad()
        (-score).backward()
        optimiser.step()
    assert_fixed_magnitude(param)
    assert not torch.equal(param.phase, start) and scores[-1] > scores[0]
    # the magnitude is the measured one (symmetrising the self-conjugate columns changes only rounding)
    torch.testing.assert_close(fft_magnitude(param.spatial())[0].float(), spectrum.magnitude, rtol=1e-4,
                               atol=1e-7 * spectrum.magnitude.max().item())
    # fixed magnitude ⇒ fixed per-channel mean (DC phase 0) and energy (Parseval): the structure moved, not the stats
    x = param.spatial().detach()
    torch.testing.assert_close(x.mean((2, 3))[0], spectrum.magnitude[:, 0, 0] / math.sqrt(h * w))
    # in float64 the construction is exact, not merely within tolerance
    exact = param.double()
    torch.testing.assert_close(fft_magnitude(exact.spatial()), exact.magnitude.expand(2, -1, -1, -1), rtol=1e-10, atol=0)


def test_naive_phase_would_not_keep_the_magnitude():
    """Why MacoParam.effective_phase exists: irfft2 keeps only the Hermitian part of the kx = 0 and
    kx = w/2 columns, (X[ky] + conj X[−ky]) / 2, so a free phase there changes the magnitude (and a
    DC or Nyquist-corner bin with a non-zero phase loses its imaginary part)."""
    param = maco(spectrum_of(1), seed=1)
    naive = torch.polar(param.magnitude.expand_as(param.phase), param.phase.detach())
    got = fft_magnitude(torch.fft.irfft2(naive, s=param.size, norm="ortho"))
    error = (got - param.magnitude.double()).abs() / param.magnitude.double()
    assert error[..., 0].max() > 0.05 and error[..., -1].max() > 0.05  # the self-conjugate columns break
    assert error[..., 1:-1].max() < 1e-4  # the others are fine


@pytest.mark.parametrize("mapping", ["natural", "standardise"])
def test_only_the_phase_learns(mapping):
    param = maco(spectrum_of(3), batch=2, mapping=mapping, value_range=(0.1, 0.9))
    assert [name for name, _ in param.named_parameters()] == ["phase"]
    assert len(list(param.parameters())) == 1 and list(param.parameters())[0] is param.phase
    assert param.phase.shape == (2, 3, 16, 9)
    assert -math.pi <= param.phase.min() and param.phase.max() < math.pi
    assert not param.magnitude.requires_grad and "magnitude" in dict(param.named_buffers())
    images = param()
    assert 0.1 <= images.min() and images.max() <= 0.9
    images[:, :, :8, :8].mean().backward()
    assert param.magnitude.grad is None
    assert param.phase.grad is not None and param.phase.grad.abs().sum() > 0
    assert param.pixels is None  # pixel projections would break the constraint


def test_seeds_and_bad_arguments():
    spectrum = spectrum_of(1)
    assert torch.equal(maco(spectrum, seed=4).phase, maco(spectrum, seed=4).phase)
    assert not torch.equal(maco(spectrum, seed=4).phase, maco(spectrum, seed=5).phase)
    with pytest.raises(ValueError, match="value_range"):
        maco(spectrum, value_range=(-1, 1))
    with pytest.raises(ValueError, match="mapping"):
        maco(spectrum, mapping="clip")


def test_constant_images_have_energy_only_at_dc():
    levels = torch.tensor([0.2, 0.5, 0.9]).view(3, 1, 1, 1)
    spectrum = measure_spectrum(levels.expand(3, 3, 16, 16).permute(1, 0, 2, 3).contiguous(), 16)
    # channel c of every image is levels[c]; DC (ortho) is the mean × √(HW), everything else zero
    dc = spectrum.magnitude[:, 0, 0]
    torch.testing.assert_close(dc, levels.flatten() * 16)
    rest = spectrum.magnitude.clone()
    rest[:, 0, 0] = 0
    assert rest.abs().max() < 1e-6 and spectrum.count == 3 and spectrum.magnitude.shape == (3, 16, 9)


def test_streamed_batches_equal_one_batch():
    images = natural_ish(7, 3, 20)
    whole = measure_spectrum(images, 16)
    streamed = measure_spectrum(iter([images[:3], (images[3:], torch.zeros(4))]), 16)  # a DataLoader's pairs
    torch.testing.assert_close(streamed.magnitude, whole.magnitude, rtol=1e-6, atol=0)
    assert streamed.count == whole.count == 7 and streamed.size == (16, 16)
    with pytest.raises(ValueError, match="channels"):
        measure_spectrum([images, images[:, :1]], 16)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        measure_spectrum(images * 255, 16)
    with pytest.raises(ValueError, match="no images"):
        measure_spectrum([], 16)


def test_save_load_round_trip_and_any_flipped_byte_is_refused(tmp_path):
    spectrum = spectrum_of(3)
    spectrum.source = "natural_ish — 8 synthetic images"
    path = spectrum.save(tmp_path / "spectrum.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["spectrum.safetensors"]  # no temporary file left behind
    loaded = MagnitudeSpectrum.load(path)
    assert torch.equal(loaded.magnitude, spectrum.magnitude)
    assert (loaded.size, loaded.count, loaded.source) == (spectrum.size, spectrum.count, spectrum.source)
    assert torch.equal(maco(path).magnitude, maco(spectrum).magnitude)

    data = path.read_bytes()
    assert MagnitudeSpectrum.from_bytes(data).count == spectrum.count
    refused = 0
    for position in range(len(data)):  # in memory: a file per flip would be slow on some file systems
        for mask in (0x01, 0xFF):
            corrupted = bytearray(data)
            corrupted[position] ^= mask
            try:
                MagnitudeSpectrum.from_bytes(bytes(corrupted))
            except ValueError:
                refused += 1
    assert refused == 2 * len(data)  # header, metadata and tensor bytes alike
    bad = tmp_path / "bad.safetensors"
    for position in (3, len(data) // 2, len(data) - 1):  # through files too: length, header, tensor
        corrupted = bytearray(data)
        corrupted[position] ^= 0x01
        bad.write_bytes(bytes(corrupted))
        with pytest.raises(ValueError, match="truncated|corrupted|not a stochvis"):
            MagnitudeSpectrum.load(bad)
    for length in (0, 5, 100, len(data) - 1):
        bad.write_bytes(data[:length])
        with pytest.raises(ValueError, match="truncated|corrupted|not a stochvis"):
            MagnitudeSpectrum.load(bad)


def grey_model():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    return wrap_model(net, mean=(0.5,), std=(0.25,), input_size=(16, 16), classes=["a", "b"], name="tiny_grey",
                      device="cpu", in_channels=1)


def test_channel_mismatch_names_both_counts(tiny_model):
    with pytest.raises(ValueError, match=r"1 channel.*tiny takes 3-channel"):
        maco(spectrum_of(1)).check(tiny_model)
    with pytest.raises(ValueError, match=r"3 channel.*tiny_grey takes 1-channel"):
        maco(spectrum_of(3)).check(grey_model())
    maco(spectrum_of(3)).check(tiny_model)
    maco(spectrum_of(1)).check(grey_model())
    with pytest.raises(ValueError, match="takes 3-channel"):  # the loop checks before the first step
        optimize(tiny_model, O.channel("conv3", 1), param=maco(spectrum_of(1)), steps=1, progress=False)


def test_resized_keeps_the_phase_of_shared_frequencies():
    spectrum = spectrum_of(3)
    param = maco(spectrum, batch=2, seed=2)
    bigger = param.resized((24, 20))
    assert bigger.size == (24, 20) and bigger().shape == (2, 3, 24, 20) and bigger.phase.shape == (2, 3, 24, 11)
    assert_fixed_magnitude(bigger)
    old, new = param.effective_phase().detach(), bigger.effective_phase().detach()
    for fy in (-3, -1, 0, 1, 3):  # cycles per image, present at both sizes
        torch.testing.assert_close(new[:, :, fy % 24, :6], old[:, :, fy % 16, :6])
    # same mean brightness and pixel variance (the spectrum is rescaled to keep them)
    torch.testing.assert_close(bigger.spatial().mean((2, 3)), param.spatial().mean((2, 3)))
    torch.testing.assert_close(bigger.spatial().var((2, 3)), param.spatial().var((2, 3)), rtol=2e-2, atol=0)
    assert maco(spectrum, size=(16, 16)).magnitude.shape == (3, 16, 9)


def test_runs_in_the_optimisation_loop(tiny_model):
    """Through optimize: a model at another size (the param is resampled), octaves, the magnitude still exact."""
    param = maco(spectrum_of(3), seed=0)
    result = optimize(tiny_model, O.channel("conv3", 1), param=param, steps=6, lr=0.1, optimizer="adam",
                      size=20, octaves=2, progress=False)
    assert result.images.shape == (1, 3, 20, 20) and result.history.shape == (6, 1)
    assert isinstance(result.param, MacoParam) and result.param.size == (20, 20)
    assert_fixed_magnitude(result.param)
    factory = functools.partial(maco, spectrum_of(3), mapping="standardise")  # called with batch, size, seed, device
    result = optimize(tiny_model, O.channel("conv3", 1), param=factory, batch=2, steps=2, progress=False)
    assert result.images.shape == (2, 3, 16, 16) and result.param.mapping == "standardise"


def test_fel2023_preset_keeps_the_magnitude_and_gives_importance(tiny_model, tmp_path):
    """The literature's recipe end to end: MACO phase, NAdam, crops + noise, importance on."""
    from stochvis.optvis import presets
    from stochvis.optvis import regularizers as R

    spectrum = spectrum_of(3)
    with pytest.raises(ValueError, match="measure_spectrum"):
        presets.config("fel2023")
    result = presets.run("fel2023", tiny_model, O.channel("conv3", 1), spectrum=spectrum, crops=2, steps=4,
                         progress=False)
    assert isinstance(result.param, MacoParam) and result.settings["optimizer"] == "nadam"
    assert result.history.shape == (4, 1) and result.final_scores.shape == (1,)
    assert any("RandomCrops" in r for r in result.settings["regularizers"])
    assert not torch.equal(result.param.phase, maco(spectrum, seed=0).phase)  # the phase learned...
    assert_fixed_magnitude(result.param)  # ...the magnitude did not move
    torch.testing.assert_close(fft_magnitude(result.param.spatial())[0].float(), spectrum.magnitude, rtol=1e-4,
                               atol=1e-7 * spectrum.magnitude.max().item())
    mask = result.importance
    assert mask.shape == (1, 1, 16, 16) and mask.min() >= 0 and mask.max() == 1
    cfg = presets.fel2023(spectrum.save(tmp_path / "s.safetensors"))  # a file works as well
    assert cfg["lr"] == 1.0 and cfg["steps"] == 256 and cfg["importance"] is True
    crops = cfg["regularizers"][0]
    assert isinstance(crops, R.RandomCrops) and crops.copies == 8 and crops.box == (0.5, 0.05)


def test_transparent_composites_with_importance_as_alpha():
    from stochvis.optvis.maco import checkerboard, transparent

    images = torch.rand(2, 3, 8, 6)
    alpha = torch.zeros(2, 1, 8, 6)
    alpha[0] = 1.0
    alpha[1, :, :4] = 0.5
    out = transparent(images, alpha, background=1.0)
    torch.testing.assert_close(out[0], images[0])  # opaque: the image
    torch.testing.assert_close(out[1, :, 4:], torch.ones(3, 4, 6))  # transparent: the background
    torch.testing.assert_close(out[1, :, :4], 0.5 * images[1, :, :4] + 0.5)
    board = checkerboard(8, 6, squares=4)
    assert board.shape == (1, 8, 6) and set(board.unique().tolist()) == {0.800000011920929, 1.0}
    torch.testing.assert_close(transparent(images, torch.zeros(2, 1, 8, 6), squares=4)[1], board.expand(3, -1, -1))
    with pytest.raises(ValueError, match="importance"):
        transparent(images, alpha[:, :, :4])


def test_save_writes_atomically_through_assets(tmp_path, monkeypatch):
    """The spectrum file goes through assets.atomic_write_bytes (one owner of the atomic write)."""
    from stochvis.optvis import maco as maco_module

    written = []
    monkeypatch.setattr(maco_module, "atomic_write_bytes", lambda path, data: written.append((path, len(data))))
    spectrum_of(1, 8).save(tmp_path / "s.safetensors")
    assert written and written[0][0] == tmp_path / "s.safetensors" and written[0][1] > 0
