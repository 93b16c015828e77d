"""MACO: images parameterised by the phase of their Fourier spectrum, the magnitude fixed.

Fel et al., NeurIPS 2023, "Unlocking feature visualization for deeper networks with magnitude
constrained optimization". Why: the amplitude spectrum of natural images is remarkably constant
(≈ 1/f) while their structure lives in the phase (Oppenheim & Lim 1981). Optimising only the phase
under the *average* amplitude of real images keeps every visualisation on natural-image statistics
(no high-frequency adversarial texture), without a generator and without hand-tuned priors, and
scales to deep networks where Olah et al.'s free 1/f-scaled spectrum degrades.

Pieces:

* :func:`measure_spectrum` — the average amplitude |rfft2| of an image set, per channel and
  frequency, streamed batch by batch; a :class:`MagnitudeSpectrum` saved as a hashed safetensors file.
* :class:`MacoParam` / :func:`maco` — the parameterisation for :func:`stochvis.optvis.optimize.optimize`.
* :func:`fft_magnitude` — |rfft2| as measured here, to check that the magnitude stays fixed.

Conventions: every FFT is ``norm="ortho"`` so that ``irfft2(rfft2(x)) == x`` and a spectrum measured
on images in [0, 1] gives a spatial image in the same pixel units (DC bin = mean · √(HW)).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from stochvis.assets import atomic_write_bytes, content_sha256, safetensors_metadata
from stochvis.inputs import image_size
from stochvis.optvis.params import ImageParam

Size = tuple[int, int]

FORMAT_VERSION = 1
_KIND = "stochvis.maco.magnitude"
MAPPINGS = ("natural", "standardise")


def fft_magnitude(images: torch.Tensor) -> torch.Tensor:
    """|rfft2(images, norm="ortho")| over the last two dims, computed in float64 so that a check of
    the parameterisation measures its own error and not this function's rounding."""
    return torch.fft.rfft2(images.detach().double(), norm="ortho").abs()


# ------------------------------------------------------------------------------------------
# Measuring and storing a spectrum
# ------------------------------------------------------------------------------------------

@dataclass(eq=False)
class MagnitudeSpectrum:
    """The fixed magnitude: ``magnitude`` (C, h, w//2+1) float32, mean |rfft2(norm="ortho")| of
    ``count`` images of ``size`` (h, w) from ``source`` (free text naming the image set)."""

    magnitude: torch.Tensor
    size: Size
    count: int
    source: str = ""

    def __post_init__(self) -> None:
        self.size = image_size(self.size, what="a MACO spectrum", minimum=2)
        self.magnitude = self.magnitude.detach().to("cpu", torch.float32).contiguous()
        h, w = self.size
        if self.magnitude.dim() != 3 or tuple(self.magnitude.shape[1:]) != (h, w // 2 + 1):
            raise ValueError(f"a magnitude for {h}×{w} images must be (C, {h}, {w // 2 + 1}), "
                             f"got {tuple(self.magnitude.shape)}")
        if not torch.isfinite(self.magnitude).all() or (self.magnitude < 0).any():
            raise ValueError("a magnitude spectrum must be finite and non-negative")
        self.count, self.source = int(self.count), str(self.source)

    @property
    def channels(self) -> int:
        return self.magnitude.shape[0]

    def _metadata(self) -> dict:
        return {"kind": _KIND, "format_version": FORMAT_VERSION, "size": list(self.size), "count": self.count,
                "source": self.source, "shape": list(self.magnitude.shape), "dtype": "float32", "norm": "ortho"}

    def save(self, path: str | Path) -> Path:
        """safetensors with the metadata and a sha256 of tensor bytes + metadata in its header,
        written to a temporary file beside ``path`` and renamed: readers never see half a file."""
        from safetensors.torch import save

        path = Path(path)
        meta = self._metadata()
        meta["content_sha256"] = _content_hash(self.magnitude, meta)
        data = save({"magnitude": self.magnitude}, metadata={"stochvis": json.dumps(meta, sort_keys=True)})
        atomic_write_bytes(path, data)
        return path

    @classmethod
    def load(cls, path: str | Path) -> MagnitudeSpectrum:
        """Read a file written by :meth:`save`; ValueError if it is truncated, not a MACO spectrum,
        or its content hash does not match (any changed byte of tensor or metadata)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no MACO spectrum file {path}")
        return cls.from_bytes(path.read_bytes(), str(path))

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "the spectrum buffer") -> MagnitudeSpectrum:
        """:meth:`load` for bytes already in memory (``name`` appears in the errors)."""
        from safetensors.torch import load

        meta = _read_metadata(data, name)
        try:
            tensors = load(data)
            magnitude = tensors["magnitude"]
        except Exception as error:  # safetensors raises its own error type for bad buffers
            raise ValueError(f"{name} is corrupted or truncated ({error}); measure the spectrum again") from error
        stored = meta.pop("content_sha256", None)
        if magnitude.dtype != torch.float32 or stored != _content_hash(magnitude, meta):
            raise ValueError(f"{name} is corrupted (content hash mismatch); measure the spectrum again")
        return cls(magnitude, tuple(meta["size"]), meta["count"], meta["source"])

    def resample(self, size: int | Size) -> MagnitudeSpectrum:
        """The spectrum for another image size, assuming natural-image scale invariance: the shape of
        the spectrum as a function of cycles *per pixel* is kept (log-magnitude, bilinear, DC left out),
        then rescaled so that the mean brightness (DC) and the pixel variance (AC energy per pixel,
        Parseval) are those of the original. Better still: measure at the size you need."""
        new = image_size(size, what="a MACO spectrum", minimum=2)
        if new == self.size:
            return MagnitudeSpectrum(self.magnitude.clone(), self.size, self.count, self.source)
        (h, w), (H, W) = self.size, new
        m = self.magnitude.double()
        dc = m[:, 0, 0].clone()
        neighbours = [m[:, 1, 0], m[:, -1, 0]] + ([m[:, 0, 1]] if m.shape[-1] > 1 else [])
        ac = m.clone()
        ac[:, 0, 0] = torch.stack(neighbours).mean(0)  # the DC spike must not leak into low frequencies
        shifted = torch.fft.fftshift(ac.clamp_min(1e-12).log(), dim=-2)  # row r ↔ (r − h//2)/h cycles/pixel
        ry = (torch.fft.fftfreq(H, dtype=torch.float64) * h + h // 2).clamp(0, h - 1)
        rx = (torch.fft.rfftfreq(W, dtype=torch.float64) * w).clamp(0, w // 2)
        new_ac = _bilinear(shifted, ry, rx).exp()
        new_ac[:, 0, 0] = 0
        old_energy = (_full_energy(m, w) - dc**2) / (h * w)
        new_energy = _full_energy(new_ac, W) / (H * W)
        scaled = new_ac * torch.sqrt(old_energy / new_energy.clamp_min(1e-30)).view(-1, 1, 1)
        scaled[:, 0, 0] = dc * math.sqrt(H * W / (h * w))
        return MagnitudeSpectrum(scaled.float(), new, self.count,
                                 f"{self.source} (resampled from {h}×{w} to {H}×{W})")


def _bilinear(grid: torch.Tensor, ry: torch.Tensor, rx: torch.Tensor) -> torch.Tensor:
    """grid (C, h, w) sampled at fractional rows ``ry`` × columns ``rx``."""
    y0, x0 = ry.floor().long(), rx.floor().long()
    y1, x1 = (y0 + 1).clamp(max=grid.shape[1] - 1), (x0 + 1).clamp(max=grid.shape[2] - 1)
    wy, wx = (ry - y0).view(1, -1, 1), (rx - x0).view(1, 1, -1)
    top = grid[:, y0[:, None], x0[None, :]] * (1 - wx) + grid[:, y0[:, None], x1[None, :]] * wx
    bottom = grid[:, y1[:, None], x0[None, :]] * (1 - wx) + grid[:, y1[:, None], x1[None, :]] * wx
    return top * (1 - wy) + bottom * wy


def _full_energy(half: torch.Tensor, width: int) -> torch.Tensor:
    """Σ|X|² over the whole (two-sided) spectrum from its rfft half: the columns that stand for
    two conjugate columns count twice. Equals Σ x² of the image (Parseval, ortho)."""
    weights = torch.full((half.shape[-1],), 2.0, dtype=half.dtype)
    weights[0] = 1.0
    if width % 2 == 0:
        weights[-1] = 1.0
    return (half.pow(2) * weights).sum((-2, -1))


def _content_hash(magnitude: torch.Tensor, meta: dict) -> str:
    return content_sha256([json.dumps(meta, sort_keys=True), magnitude])


def _read_metadata(data: bytes, name: str) -> dict:
    """The metadata of a spectrum file, with errors that say what is wrong."""
    what = "a stochvis MACO spectrum file, or is corrupted"
    meta = safetensors_metadata(data, name, what=what, remedy="measure the spectrum again")
    try:
        if meta.get("kind") != _KIND:
            raise ValueError(f"kind {meta.get('kind')!r}")
        for key in ("size", "count", "source"):
            meta[key]  # noqa: B018 - presence check
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{name} is not {what} ({error})") from error
    return meta


def _batches(images: torch.Tensor | Iterable) -> Iterable[torch.Tensor]:
    if isinstance(images, torch.Tensor):
        yield images
        return
    for batch in images:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch  # (images, labels) from a DataLoader


def measure_spectrum(images: torch.Tensor | Iterable, size: int | Size, *, source: str = "") -> MagnitudeSpectrum:
    """Average amplitude |rfft2(norm="ortho")| per channel and frequency of ``images`` resized to ``size``.

    ``images``: (N, C, H, W) or (C, H, W) in [0, 1], or an iterable of such batches (or of
    ``(images, labels)`` pairs): streamed, summed in float64, so any image set fits and the result
    does not depend on how it is batched. Images of another size are resized with antialiased
    bilinear interpolation, as a model's input would be.

    The images are *not* mean-centred: MACO fixes the average magnitude of the images themselves,
    DC included. With the DC phase held at 0 (see :class:`MacoParam`), the DC bin then fixes each
    channel's mean brightness to the image set's, and Parseval fixes its contrast.
    """
    target = image_size(size, what="a MACO spectrum", minimum=2)
    total: torch.Tensor | None = None
    count = 0
    for batch in _batches(images):
        batch = batch.unsqueeze(0) if batch.dim() == 3 else batch
        if batch.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W) or (C, H, W), got {tuple(batch.shape)}")
        if batch.shape[0] == 0:
            continue
        if total is not None and batch.shape[1] != total.shape[0]:
            raise ValueError(f"a batch has {batch.shape[1]} channels, the earlier ones {total.shape[0]}")
        batch = batch.detach().double()
        if not torch.isfinite(batch).all() or batch.min() < -1e-6 or batch.max() > 1 + 1e-6:
            raise ValueError("images must be finite and in [0, 1] (divide 8-bit images by 255)")
        if tuple(batch.shape[-2:]) != target:
            batch = F.interpolate(batch, size=target, mode="bilinear", align_corners=False, antialias=True)
        summed = fft_magnitude(batch).sum(0).cpu()
        total = summed if total is None else total + summed
        count += batch.shape[0]
    if total is None:
        raise ValueError("measure_spectrum got no images")
    return MagnitudeSpectrum((total / count).float(), target, count, source)


# ------------------------------------------------------------------------------------------
# The parameterisation
# ------------------------------------------------------------------------------------------

def _hermitian_columns(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The rfft2 columns that are their own conjugate column (kx = 0, and kx = w/2 for even w), and
    the row of −ky for every row ky. In those columns a real image has X[−ky] = conj(X[ky])."""
    columns = torch.zeros(width // 2 + 1, dtype=torch.bool)
    columns[0] = True
    if width % 2 == 0:
        columns[-1] = True
    return columns, (-torch.arange(height)) % height


class MacoParam(ImageParam):
    """Phase-only Fourier parameterisation (MACO): image = map(irfft2(magnitude · e^{i·phase})).

    The only parameter is ``phase`` (batch, C, h, w//2+1), drawn uniformly in [−π, π); the
    magnitude is a buffer, symmetrised in the self-conjugate columns (see :meth:`spatial`).

    ``mapping`` from the spatial image x to [lo, hi] = ``value_range`` ⊆ [0, 1]:

    * ``"natural"`` (default): a sigmoid through each channel's mean μ with slope 1 there,
      y = lo + (hi−lo)·σ(logit t + (x−μ)/((hi−lo)·t(1−t))), t = (μ−lo)/(hi−lo). Because the magnitude
      is fixed, every spatial image has the same per-channel mean (DC) and energy (Parseval), so
      MACO's standardisation is a constant affine map here; we use that constant, chosen so that
      pixels near the mean keep the measured natural-image values, extremes are squashed smoothly
      into the range (never clipped, so no pixel loses its gradient), and images of a batch do not
      interact.
    * ``"standardise"``: as Xplique and Horama do it: the phase is standardised per image before use,
      the spatial image standardised per image (all channels together), then σ into the range. Note
      that standardising the phase squeezes it into about ±√3 rad (±1 std for their Gaussian start),
      so cos φ is mostly positive and the start image has a bright spot at pixel (0, 0) (≈ 15 std on
      a 64×64 photo spectrum); "natural" keeps the phase uniform on the circle and has no such spot.

    Not pixels (``pixels`` is None): an image-space projection would break the magnitude constraint.
    """

    def __init__(self, spectrum: MagnitudeSpectrum, batch: int = 1, *, seed: int = 0,
                 value_range: tuple[float, float] = (0.0, 1.0), mapping: str = "natural",
                 phase: torch.Tensor | None = None) -> None:
        super().__init__()
        if mapping not in MAPPINGS:
            raise ValueError(f"unknown mapping {mapping!r}: use one of {', '.join(MAPPINGS)}")
        lo, hi = float(value_range[0]), float(value_range[1])
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"value_range must satisfy 0 ≤ lo < hi ≤ 1 (images are in [0, 1]), got {value_range}")
        self.spectrum, self.batch, self.size = spectrum, int(batch), spectrum.size
        self.seed, self.value_range, self.mapping = seed, (lo, hi), mapping
        h, w = self.size
        columns, mirror = _hermitian_columns(h, w)
        self.register_buffer("hermitian_columns", columns, persistent=False)
        self.register_buffer("mirror", mirror, persistent=False)
        magnitude = spectrum.magnitude.clone()
        magnitude[..., columns] = 0.5 * (magnitude[..., columns] + magnitude[..., mirror, :][..., columns])
        self.register_buffer("magnitude", magnitude)
        shape = (self.batch, spectrum.channels, h, w // 2 + 1)
        if phase is None:
            generator = torch.Generator().manual_seed(seed)
            phase = (2 * torch.rand(shape, generator=generator) - 1) * math.pi
        elif tuple(phase.shape) != shape:
            raise ValueError(f"phase must be {shape} for this spectrum and batch, got {tuple(phase.shape)}")
        self.phase = nn.Parameter(phase.detach().clone().float())
        # "natural" mapping: the fixed per-channel mean (DC phase is 0), as a point t of the range
        mean = magnitude[:, 0, 0] / math.sqrt(h * w)
        t = ((mean - lo) / (hi - lo)).clamp(0.02, 0.98)
        self.register_buffer("centre", mean.view(1, -1, 1, 1), persistent=False)
        self.register_buffer("offset", torch.logit(t).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("gain", (1.0 / ((hi - lo) * t * (1 - t))).view(1, -1, 1, 1), persistent=False)

    def effective_phase(self, phase: torch.Tensor | None = None) -> torch.Tensor:
        """The phase the image really has: antisymmetric in the self-conjugate columns.

        A real image needs X[−ky, kx] = conj(X[ky, kx]) in columns kx = 0 and w/2, and real bins
        where ky = −ky too (DC and the Nyquist corners). irfft2 silently keeps only the Hermitian
        part there, (X[ky] + conj X[−ky]) / 2, which shrinks the magnitude unless the phases agree.
        Using φ' = (φ[ky] − φ[−ky]) / 2 there (and a symmetric magnitude) makes the spectrum exactly
        Hermitian, so the magnitude is exactly the fixed one; the real bins get φ' = 0 (positive sign).
        """
        phase = self.phase if phase is None else phase
        mirrored = phase[..., self.mirror, :]
        return torch.where(self.hermitian_columns, 0.5 * (phase - mirrored), phase)

    def spatial(self) -> torch.Tensor:
        """The pre-mapping image (batch, C, h, w) = irfft2(magnitude · e^{i·phase}); its |rfft2| is the
        fixed magnitude at every step (up to float rounding)."""
        phase = self.phase
        if self.mapping == "standardise":
            mean = phase.mean((1, 2, 3), keepdim=True)
            phase = (phase - mean) / (phase.std((1, 2, 3), keepdim=True) + 1e-5)
        phase = self.effective_phase(phase)
        spectrum = torch.complex(self.magnitude * torch.cos(phase), self.magnitude * torch.sin(phase))
        return torch.fft.irfft2(spectrum, s=self.size, norm="ortho")

    def forward(self) -> torch.Tensor:
        x = self.spatial()
        lo, hi = self.value_range
        if self.mapping == "natural":
            return lo + (hi - lo) * torch.sigmoid(self.offset + (x - self.centre) * self.gain)
        z = (x - x.mean((1, 2, 3), keepdim=True)) / (x.std((1, 2, 3), keepdim=True) + 1e-5)
        return lo + (hi - lo) * torch.sigmoid(z)

    def check(self, model) -> None:  # noqa: ANN001 (WrappedModel; params must not import models)
        channels = getattr(model, "in_channels", 3)
        if self.spectrum.channels != channels:
            name = getattr(model, "name", type(model).__name__)
            raise ValueError(f"the MACO spectrum has {self.spectrum.channels} channel(s) (measured on "
                             f"{self.spectrum.source or 'unnamed images'}) but {name} takes {channels}-channel "
                             f"images: measure the spectrum on {channels}-channel images")

    def resized(self, size: int | Size) -> MacoParam:
        """The same structure at another size (octaves, or a model's input size): the magnitude comes
        from :meth:`MagnitudeSpectrum.resample`, and the phase — which carries the structure — is kept at
        every frequency (in cycles per image) that both sizes have; new frequencies get a random phase."""
        new = image_size(size, what="a MACO spectrum", minimum=2)
        spectrum = self.spectrum.resample(new)
        (h, w), (H, W) = self.size, new
        generator = torch.Generator().manual_seed(self.seed + 1 + H * 10007 + W)
        phase = (2 * torch.rand(self.batch, spectrum.channels, H, W // 2 + 1, generator=generator) - 1) * math.pi
        old = self.effective_phase(self.phase.detach()).cpu()
        old_rows = {int(f): i for i, f in enumerate((torch.fft.fftfreq(h) * h).round().tolist())}
        pairs = [(i, old_rows[int(f)]) for i, f in enumerate((torch.fft.fftfreq(H) * H).round().tolist())
                 if int(f) in old_rows]
        new_rows, from_rows = (torch.tensor(p) for p in zip(*pairs))
        columns = torch.arange(min(w // 2, W // 2) + 1)
        phase[:, :, new_rows[:, None], columns[None, :]] = old[:, :, from_rows[:, None], columns[None, :]]
        param = MacoParam(spectrum, self.batch, seed=self.seed, value_range=self.value_range, mapping=self.mapping,
                          phase=phase)
        return param.to(self.phase.device)


def maco(
    spectrum: MagnitudeSpectrum | str | Path,
    batch: int = 1,
    size: int | Size | None = None,
    *,
    seed: int = 0,
    value_range: tuple[float, float] = (0.0, 1.0),
    mapping: str = "natural",
    device: torch.device | str | None = None,
) -> MacoParam:
    """MACO parameterisation (Fel et al. 2023) from a measured spectrum (or its file). ``size``: resample
    the spectrum to it when it differs. ``functools.partial(maco, spectrum)`` is a factory for
    :func:`~stochvis.optvis.optimize.optimize` (called with ``batch, size, seed, device``)."""
    if not isinstance(spectrum, MagnitudeSpectrum):
        spectrum = MagnitudeSpectrum.load(spectrum)
    if size is not None and image_size(size, what="a MACO spectrum", minimum=2) != spectrum.size:
        spectrum = spectrum.resample(size)
    param = MacoParam(spectrum, batch, seed=seed, value_range=value_range, mapping=mapping)
    return param.to(device or "cpu")


__all__ = ["MacoParam", "MagnitudeSpectrum", "fft_magnitude", "maco", "measure_spectrum"]


# ------------------------------------------------------------------------------------------
# Showing the importance mask
# ------------------------------------------------------------------------------------------

def checkerboard(height: int, width: int, squares: int = 8, shades: tuple[float, float] = (0.8, 1.0)) -> torch.Tensor:
    """(1, height, width) light grey/white checkerboard with ``squares`` squares along the longer side:
    the conventional backdrop that makes transparency visible."""
    side = max(1, math.ceil(max(height, width) / squares))
    rows = (torch.arange(height) // side).view(-1, 1)
    columns = (torch.arange(width) // side).view(1, -1)
    dark, light = shades
    return torch.where((rows + columns) % 2 == 0, torch.tensor(light), torch.tensor(dark)).unsqueeze(0).float()


def transparent(images: torch.Tensor, importance: torch.Tensor, *, background: str | float = "checkerboard",
                gamma: float = 1.0, squares: int = 8) -> torch.Tensor:
    """MACO's transparency: ``images`` (N, C, H, W) in [0, 1] with ``importance`` (N, 1, H, W) in [0, 1]
    (``OptimizationResult.importance``) as alpha, composited over ``background`` ("checkerboard", or a grey
    level in [0, 1], 1 = white): out = α·image + (1 − α)·background, α = importance^``gamma`` (γ < 1 shows
    more of the image). The RGBA itself is ``torch.cat([images, importance], 1)``."""
    if images.dim() != 4 or importance.dim() != 4 or importance.shape[1] != 1 or \
            importance.shape[0] != images.shape[0] or importance.shape[-2:] != images.shape[-2:]:
        raise ValueError(f"importance must be (N, 1, H, W) matching images {tuple(images.shape)}, "
                         f"got {tuple(importance.shape)}")
    alpha = importance.detach().to(images).clamp(0, 1).pow(gamma)
    if background == "checkerboard":
        back = checkerboard(*images.shape[-2:], squares=squares).to(images)
    elif isinstance(background, (int, float)) and 0 <= background <= 1:
        back = torch.full_like(images[:1, :1], float(background))
    else:
        raise ValueError(f"background must be 'checkerboard' or a grey level in [0, 1], got {background!r}")
    return alpha * images.detach() + (1 - alpha) * back
