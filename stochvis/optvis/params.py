"""Image parameterisations: what the optimiser actually changes.

A parameterisation is an ``nn.Module`` whose ``parameters()`` are optimised and whose call returns
images (N, 3, H, W) in [0, 1]. Pixels are the obvious choice (Simonyan 2013, Yosinski 2015, the
source documents); a Fourier basis with decorrelated colour (Olah et al. 2017) changes the
geometry of steepest ascent so low frequencies move first; a generator's latent code (DGN-AM,
Nguyen et al. 2016) restricts images to what a generator can draw. All three are the same kind of
object for :func:`stochvis.optvis.optimize.optimize`: subclass :class:`ImageParam`, implement
``forward()``, and optionally ``project_()`` (a constraint applied after every step, e.g. clipping
a code to [0, a]) and ``resized()`` (to support octaves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from stochvis.inputs import image_size

Size = tuple[int, int]


def _check_batch(batch) -> None:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch is the number of images: a positive integer, got {batch!r}")


class ImageParam(nn.Module):
    """Base class: ``self()`` → images (N, 3, H, W) in [0, 1] from ``self.parameters()``.

    ``pixels`` is the tensor that image-space projections (decay, blur, clipping; the r1 of the
    source documents' update x ← r1(x + η·r2(∂a/∂x))) act on, centred so that 0 is mid-grey; it is
    ``None`` for parameterisations that are not pixels (FFT, generator latent).
    """

    batch: int
    size: Size

    @property
    def pixels(self) -> torch.Tensor | None:
        return None

    def project_(self) -> None:
        """Constraint after every optimiser step (in place). Default: none."""

    def penalty(self) -> torch.Tensor | None:
        """Per-image prior term (N,) on the parameters themselves, subtracted from the objective
        (e.g. DGN-AM's L2 on the code). Default: none."""
        return None

    def check(self, model) -> None:  # noqa: ANN001 (WrappedModel; params must not import models)
        """Fail before the first step if these images cannot go into ``model``. Default: compare the
        ``channels`` attribute (when the param has one) with ``model.in_channels``."""
        mine = getattr(self, "channels", None)
        theirs = getattr(model, "in_channels", 3)
        if isinstance(mine, int) and mine != theirs:
            raise ValueError(f"{type(self).__name__} makes {mine}-channel images but {getattr(model, 'name', 'the model')} "
                             f"takes {theirs}-channel images: build it with channels={theirs} (or leave param= out: "
                             "optimize takes the channel count from the model)")

    def resized(self, size: int | Size) -> ImageParam:
        """The same images at another size (for octaves). Pixels only by default."""
        raise NotImplementedError(f"{type(self).__name__} does not support octaves (resizing); use params.pixel")


class PixelParam(ImageParam):
    """Pixels, stored centred (image − 0.5) so that L2 decay and Lp penalties pull towards grey,
    as Yosinski et al. decay towards the mean image. Clamped to the valid range after each step."""

    def __init__(self, centred: torch.Tensor) -> None:
        super().__init__()
        if centred.dim() != 4 or centred.shape[1] not in (1, 3):
            raise ValueError(f"pixel parameter must be (N, 3, H, W) or (N, 1, H, W) (grey), got {tuple(centred.shape)}")
        self.centred = nn.Parameter(centred.detach().clone().float())
        self.channels = int(centred.shape[1])
        self.batch = centred.shape[0]
        self.size = (centred.shape[2], centred.shape[3])

    @property
    def pixels(self) -> torch.Tensor:
        return self.centred

    def forward(self) -> torch.Tensor:
        return self.centred + 0.5

    @torch.no_grad()
    def project_(self) -> None:
        self.centred.clamp_(-0.5, 0.5)

    def resized(self, size: int | Size) -> PixelParam:
        target = image_size(size)
        with torch.no_grad():
            return PixelParam(F.interpolate(self.centred, size=target, mode="bilinear", align_corners=False))


def pixel(
    batch: int = 1,
    size: int | Size = 224,
    *,
    init: str | torch.Tensor = "noise",
    seed: int = 0,
    noise_std: float = 0.1,
    channels: int = 3,
    device: torch.device | str | None = None,
) -> PixelParam:
    """Pixel parameterisation. ``init``: "noise" (grey + N(0, noise_std²)), "zeros" (mid-grey, the
    Simonyan et al. start: the zero image of the mean-subtracted space), "uniform" (U[0, 1]), or
    a tensor of images in [0, 1] (N, 3, H, W) or (3, H, W). ``channels``: 1 for grey models
    (the Fashion-MNIST networks)."""
    height, width = image_size(size)
    generator = torch.Generator().manual_seed(seed)
    _check_batch(batch)
    if isinstance(init, torch.Tensor):
        from stochvis.inputs import check_image_batch  # uint8 → /255, range and NaN refused with a sentence

        images = check_image_batch(init.detach(), name="init images").float().cpu()
        if images.shape[0] == 1 and batch > 1:
            images = images.expand(batch, -1, -1, -1)
        if images.shape[2:] != (height, width):
            images = F.interpolate(images, size=(height, width), mode="bilinear", align_corners=False)
        if images.shape[0] not in (1, batch):
            raise ValueError(f"{images.shape[0]} init images for batch={batch}: give 1 image or {batch}")
        centred = images.clamp(0, 1) - 0.5
    elif init == "noise":
        centred = (torch.randn(batch, channels, height, width, generator=generator) * noise_std).clamp(-0.5, 0.5)
    elif init == "zeros":
        centred = torch.zeros(batch, channels, height, width)
    elif init == "uniform":
        centred = torch.rand(batch, channels, height, width, generator=generator) - 0.5
    else:
        raise ValueError(f"unknown init {init!r}: use 'noise', 'zeros', 'uniform' or a tensor of images")
    return PixelParam(centred).to(device or "cpu")


# ImageNet colour correlation: the square root of the RGB covariance, from its SVD (Olah et al. 2017
# / Lucent). Multiplying by it turns independent "decorrelated" channels into natural colour statistics.
_COLOR_CORRELATION_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02],
                                            [0.27, 0.00, -0.05],
                                            [0.27, -0.09, 0.03]])
_COLOR_MEAN = torch.tensor([0.48, 0.46, 0.41])


class ColourStatistics:
    """The colour basis of :class:`FFTParam`: ``sqrt_covariance`` (3, 3), the square root of an image set's RGB
    covariance from its SVD (columns: the principal colour directions scaled by their standard deviations),
    and ``mean`` (3,), its mean colour; or one of each per image, (N, 3, 3) and (N, 3).

    Why measured: Olah et al. take ImageNet's, whose chroma directions have 0.28 and 0.13 of the luminance's
    spread. Under Adam every coefficient moves at the same rate, so a chroma direction of small gain moves
    slowly: the images stay nearer grey than a more colourful image set (the natural world's composites:
    0.50 and 0.28). The class's own pixels are its shallowest statistics (:func:`measure_colour`)."""

    def __init__(self, sqrt_covariance: torch.Tensor, mean: torch.Tensor) -> None:
        sqrt_covariance, mean = torch.as_tensor(sqrt_covariance).float(), torch.as_tensor(mean).float()
        if sqrt_covariance.shape[-2:] != (3, 3) or sqrt_covariance.dim() not in (2, 3):
            raise ValueError(f"sqrt_covariance must be (3, 3) or (N, 3, 3), got shape {tuple(sqrt_covariance.shape)}")
        if mean.shape != sqrt_covariance.shape[:-1]:
            raise ValueError(f"mean must be {tuple(sqrt_covariance.shape[:-1])} for a sqrt_covariance of shape "
                             f"{tuple(sqrt_covariance.shape)}, got {tuple(mean.shape)}")
        if not ((mean > 0) & (mean < 1)).all() or not torch.isfinite(sqrt_covariance).all():
            raise ValueError("a colour mean must lie strictly inside (0, 1) and the covariance be finite: "
                             "measure them from images in [0, 1] (measure_colour)")
        self.sqrt_covariance, self.mean = sqrt_covariance, mean

    @classmethod
    def imagenet(cls) -> ColourStatistics:
        return cls(_COLOR_CORRELATION_SVD_SQRT, _COLOR_MEAN)

    @classmethod
    def stack(cls, statistics: Sequence[ColourStatistics]) -> ColourStatistics:
        """One (3, 3) basis per image from a list (e.g. each image's class's): the per-image form."""
        if not statistics or any(s.mean.dim() != 1 for s in statistics):
            raise ValueError("stack takes a non-empty list of single (3, 3) colour bases, one per image")
        return cls(torch.stack([s.sqrt_covariance for s in statistics]), torch.stack([s.mean for s in statistics]))

    def normalized(self) -> torch.Tensor:
        """The basis divided by its largest column norm (Lucid's convention: the luminance direction at gain 1)."""
        return self.sqrt_covariance / self.sqrt_covariance.norm(dim=-2, keepdim=True).amax(-1, keepdim=True)

    def for_batch(self, batch: int) -> ColourStatistics:
        """This basis, checked to fit ``batch`` images: one for all, or exactly one per image."""
        if self.mean.dim() == 2 and len(self.mean) != batch:
            raise ValueError(f"{len(self.mean)} per-image colour bases for a batch of {batch} images: give one "
                             "(3, 3) basis for all, or exactly one per image")
        return self

    def register(self, module: nn.Module) -> None:
        """Store the normalised basis and the mean's logit on ``module`` as the buffers ``color`` and
        ``color_offset`` (:func:`in_colours` reads them), so they follow the module's device."""
        module.register_buffer("color", self.normalized())
        module.register_buffer("color_offset", torch.logit(self.mean))


def in_colours(image: torch.Tensor, color: torch.Tensor, color_offset: torch.Tensor) -> torch.Tensor:
    """Logits of an (N, 3, H, W) image in the decorrelated colours mapped through a normalised basis (one (3, 3)
    for all, or (N, 3, 3) one per image) and shifted by the mean colour's logit: the colour stage of every
    parameterisation that optimises decorrelated colours. The shared form keeps one matrix product (a batched
    one rounds differently, and runs would no longer reproduce to the bit)."""
    shared = color.dim() == 2
    image = torch.einsum("nchw,dc->ndhw" if shared else "nchw,ndc->ndhw", image, color.to(image.dtype))
    return image + color_offset.to(image)[..., None, None]


def measure_colour(images: torch.Tensor, mask: torch.Tensor | None = None) -> ColourStatistics:
    """The RGB mean and the square root of the RGB covariance (``U·√S`` of its SVD, as Olah et al.'s ImageNet
    matrix) of every pixel of ``images`` (N, 3, H, W) in [0, 1], or of those where ``mask`` (N, 1, H, W) is true:
    the colours of one region (e.g. the objects of cut-outs, not their canvas)."""
    images = torch.as_tensor(images)
    if images.dim() != 4 or images.shape[1] != 3 or images.shape[0] < 1:
        raise ValueError(f"measure_colour needs RGB images (N, 3, H, W), got shape {tuple(images.shape)}")
    pixels = images.detach().double().permute(1, 0, 2, 3).reshape(3, -1)
    if mask is not None:
        if tuple(mask.shape) != (images.shape[0], 1, *images.shape[2:]):
            raise ValueError(f"the mask must be (N, 1, H, W) = {(images.shape[0], 1, *images.shape[2:])}, "
                             f"got {tuple(mask.shape)}")
        pixels = pixels[:, mask.bool().permute(1, 0, 2, 3).reshape(-1)]
    if pixels.shape[1] < 2 or pixels.min() < 0 or pixels.max() > 1:
        raise ValueError("measure_colour needs at least two pixels with values in [0, 1]")
    u, s, _ = torch.linalg.svd(torch.cov(pixels))
    return ColourStatistics(u * s.sqrt(), pixels.mean(1).clamp(1e-3, 1 - 1e-3))


class FFTParam(ImageParam):
    """Fourier-basis image with 1/f amplitude scaling and decorrelated colour (Olah et al. 2017).

    Why: in pixel space steepest ascent favours high frequencies (the checkerboard noise of plain
    AM); scaling each frequency's coefficient by 1/f whitens the spectrum of natural images, so
    every frequency moves at a comparable rate. Colours are optimised in a decorrelated basis and
    mapped back through a colour correlation (ImageNet's, or ``colour``: measured from an image set,
    :func:`measure_colour`, one for all images or one per image); a sigmoid keeps pixels in [0, 1].
    """

    def __init__(self, batch: int, size: int | Size, *, decorrelate: bool = True, decay_power: float = 1.0,
                 sd: float = 0.01, seed: int = 0, channels: int = 3, colour: ColourStatistics | None = None) -> None:
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"the Fourier parameterisation makes grey (channels=1) or RGB (channels=3) images, "
                             f"got channels={channels!r}")
        if colour is not None and (channels != 3 or not decorrelate):
            raise ValueError("a colour basis is for decorrelated RGB images (channels=3, decorrelate=True)")
        colour = (colour or ColourStatistics.imagenet()).for_batch(batch)
        self.batch, self.size, self.channels = batch, image_size(size), channels
        height, width = self.size
        freqs = _frequencies(height, width)
        scale = 1.0 / torch.maximum(freqs, torch.tensor(1.0 / max(height, width))) ** decay_power
        self.register_buffer("scale", scale)  # with norm="ortho" below, as Lucid's sqrt(HW)·irfft2d
        generator = torch.Generator().manual_seed(seed)
        shape = (batch, channels, *freqs.shape, 2)
        self.spectrum = nn.Parameter(torch.randn(shape, generator=generator) * sd)
        self.decorrelate = decorrelate and channels == 3  # colour decorrelation is for RGB only
        colour.register(self)  # (3, 3) and (3,) for every image, or (N, 3, 3) and (N, 3) one per image

    def decorrelated(self) -> torch.Tensor:
        """The image before its colour basis and sigmoid: (N, C, H, W) logits in the decorrelated colours."""
        height, width = self.size
        coefficients = torch.view_as_complex(self.spectrum) * self.scale
        return torch.fft.irfft2(coefficients, s=(height, width), norm="ortho") / 4.0

    def forward(self) -> torch.Tensor:
        image = self.decorrelated()
        if self.decorrelate:
            image = in_colours(image, self.color, self.color_offset)
        elif self.channels == 1:
            image = image + torch.logit(_COLOR_MEAN.mean().to(image))
        return torch.sigmoid(image)


def _frequencies(height: int, width: int) -> torch.Tensor:
    """|f| for each coefficient of an rfft2 of an H×W image, in cycles per pixel."""
    fy = torch.fft.fftfreq(height)[:, None]
    fx = torch.fft.rfftfreq(width)[None, :]
    return torch.sqrt(fx * fx + fy * fy)


def fft(
    batch: int = 1,
    size: int | Size = 224,
    *,
    decorrelate: bool = True,
    decay_power: float = 1.0,
    seed: int = 0,
    channels: int = 3,
    colour: ColourStatistics | None = None,
    device: torch.device | str | None = None,
) -> FFTParam:
    """Fourier parameterisation with decorrelated colour (Olah et al. 2017, "Feature Visualization");
    ``channels=1`` for grey models (no colour decorrelation); ``colour``: a measured colour basis instead of
    ImageNet's (:func:`measure_colour`)."""
    _check_batch(batch)
    return FFTParam(batch, size, decorrelate=decorrelate, decay_power=decay_power, seed=seed,
                    channels=channels, colour=colour).to(device or "cpu")


class CutoutParam(ImageParam):
    """An object over a calmer backdrop: a Fourier-basis foreground (:class:`FFTParam`) blended by a
    coarse mask into a backdrop that is either smooth (``backdrop_cells``² colours, upsampled bicubically)
    or any image parameterisation given as ``backdrop`` (e.g. a MACO phase-only image whose magnitude is
    measured on photographs, so that its texture has a photograph's energy at every frequency).

    Why: photographs of a thing are mostly a thing on a calmer background, while a Fourier or pixel image
    fills every position with texture when an objective asks for a class's features. Here the mask says
    where the object is (``mask_cells``² logits, bilinear, so its edges stay soft but it cannot speckle)
    and everywhere else the image is the backdrop. The idea of a mask blending an optimised image into a
    background is Mordvintsev et al. 2018 ("Differentiable Image Parameterizations", alpha channels);
    there the background is random, here it is optimised too, under a constraint that keeps it a background.
    """

    def __init__(self, batch: int, size: int | Size, *, backdrop_cells: int = 8, mask_cells: int = 8,
                 backdrop: ImageParam | None = None, mask_sharpness: float = 4.0, sd: float = 0.1, seed: int = 0,
                 channels: int = 3) -> None:
        super().__init__()
        self.batch, self.size = batch, image_size(size)
        for name, cells in (("backdrop_cells", backdrop_cells), ("mask_cells", mask_cells)):
            if isinstance(cells, bool) or not isinstance(cells, int) or not 1 <= cells <= min(self.size):
                raise ValueError(f"{name} must be an integer from 1 to the image side {min(self.size)}, got {cells!r}")
        self.foreground = FFTParam(batch, self.size, seed=seed, channels=channels)
        self.channels = self.foreground.channels
        generator = torch.Generator().manual_seed(seed + 1)
        self.backdrop_param = backdrop
        if backdrop is None:
            self.backdrop = nn.Parameter(torch.randn(batch, self.channels, backdrop_cells, backdrop_cells,
                                                     generator=generator) * sd)
        else:
            wanted = (batch, self.channels, *self.size)
            got = tuple(backdrop().shape)
            if got != wanted:
                raise ValueError(f"the backdrop parameterisation makes images of shape {got}; this cut-out needs "
                                 f"{wanted} (batch, channels, height, width)")
            torch.randn(batch, self.channels, backdrop_cells, backdrop_cells, generator=generator)  # same mask draw
        self.mask_logits = nn.Parameter(torch.randn(batch, 1, mask_cells, mask_cells, generator=generator) * sd)
        self.mask_sharpness = float(mask_sharpness)

    def mask(self) -> torch.Tensor:
        """(N, 1, H, W) in (0, 1): 1 where the foreground shows."""
        logits = F.interpolate(self.mask_logits * self.mask_sharpness, size=self.size, mode="bilinear",
                               align_corners=False)
        return torch.sigmoid(logits)

    def backdrop_image(self) -> torch.Tensor:
        """(N, C, H, W) in (0, 1): the image behind the object."""
        if self.backdrop_param is not None:
            return self.backdrop_param()
        return torch.sigmoid(F.interpolate(self.backdrop, size=self.size, mode="bicubic", align_corners=False))

    def forward(self) -> torch.Tensor:
        mask = self.mask()
        return mask * self.foreground() + (1 - mask) * self.backdrop_image()


BackdropFactory = Callable[..., ImageParam]  # (batch=, size=, seed=) -> an ImageParam of that batch and size


def cutout(
    batch: int = 1,
    size: int | Size = 224,
    *,
    backdrop_cells: int = 8,
    mask_cells: int = 8,
    backdrop: BackdropFactory | None = None,
    seed: int = 0,
    channels: int = 3,
    device: torch.device | str | None = None,
) -> CutoutParam:
    """An object (Fourier basis) blended by a coarse mask into a backdrop (:class:`CutoutParam`): a smooth
    optimised one of ``backdrop_cells``² colours, or ``backdrop(batch=, size=, seed=)``'s images, e.g.
    ``functools.partial(stochvis.optvis.maco.maco, spectrum)`` for a backdrop with a photograph's spectrum."""
    _check_batch(batch)
    made = None if backdrop is None else backdrop(batch=batch, size=image_size(size), seed=seed + 2)
    return CutoutParam(batch, size, backdrop_cells=backdrop_cells, mask_cells=mask_cells, backdrop=made, seed=seed,
                       channels=channels).to(device or "cpu")


class GeneratorParam(ImageParam):
    """A generator's latent code z, images x = G(z) (DGN-AM, Nguyen et al. 2016).

    The optimiser moves z; the generator restricts the images to what it can draw, which is the
    image prior. Two priors on the code itself, as in the paper: an L2 penalty ``l2·‖z‖²/dim``
    (per image, returned by :meth:`penalty` and subtracted from the objective by the loop) that
    keeps every unit small, and a box ``lower ≤ z ≤ upper`` applied after every step
    (:meth:`project_`): [0, mean + 3 std] of each unit on real images when the code is a ReLU
    feature layer, ± a few std of the prior for a GAN. Each image of the batch is an independent
    restart from its own random code.

    ``prior`` is a :class:`stochvis.methods.generator_prior.GeneratorPrior` (or any module with the same
    attributes: ``code_shape``, ``lower``, ``upper``, ``channels``, ``size``, ``name`` and
    ``initial_codes(batch, generator)``); calling it maps codes to images in [0, 1].
    """

    def __init__(self, prior: nn.Module, codes: torch.Tensor, *, l2: float = 0.0, size: int | Size | None = None) -> None:
        super().__init__()
        if tuple(codes.shape[1:]) != tuple(prior.code_shape):
            raise ValueError(f"codes of shape {tuple(codes.shape)} do not fit {prior.name}, whose codes are "
                             f"(N, {', '.join(map(str, prior.code_shape))})")
        self.prior = prior
        self.code = nn.Parameter(codes.detach().clone().float())
        self.l2 = float(l2)
        self.batch = codes.shape[0]
        self.size = image_size(size if size is not None else prior.size)

    def parameters(self, recurse: bool = True):  # noqa: ANN201 - only the code is optimised, never G
        yield self.code

    def forward(self) -> torch.Tensor:
        images = self.prior(self.code)
        if tuple(images.shape[-2:]) != self.size:  # G draws one size; the model may take another
            images = F.interpolate(images, size=self.size, mode="bilinear", align_corners=False, antialias=True)
        return images

    def resized(self, size: int | Size) -> GeneratorParam:
        """The same codes, G's images resampled to ``size`` (for a model's input size, or octaves)."""
        return GeneratorParam(self.prior, self.code.detach(), l2=self.l2, size=size)

    def penalty(self) -> torch.Tensor | None:
        if not self.l2:
            return None
        return self.l2 * self.code.pow(2).flatten(1).mean(1)

    @torch.no_grad()
    def project_(self) -> None:
        self.code.copy_(self.prior.clip(self.code))

    def check(self, model) -> None:  # noqa: ANN001
        channels = getattr(model, "in_channels", 3)
        if self.prior.channels != channels:
            raise ValueError(f"{self.prior.name} draws {self.prior.channels}-channel images but {model.name} takes "
                             f"{channels}-channel images: pair it with a {self.prior.channels}-channel model "
                             f"(or convert inside the model)")
        with torch.no_grad():
            probe = self()[:1]
            try:
                model(probe.to(model.device))
            except RuntimeError as error:
                raise ValueError(f"{self.prior.name} draws images of shape {tuple(probe.shape[1:])} that {model.name} "
                                 f"(input size {model.input_size}) cannot take: {error}") from error


def generator_latent(
    prior: nn.Module,
    batch: int = 1,
    size: int | Size | None = None,
    *,
    l2: float = 0.0,
    init: str | torch.Tensor = "prior",
    seed: int = 0,
    device: torch.device | str | None = None,
) -> GeneratorParam:
    """DGN-AM parameterisation: ``batch`` codes of ``prior`` (random restarts), optimised in place of
    pixels. ``init``: "prior" (the prior's own random codes, clipped to the box), "zeros", or a tensor
    of codes. ``size``: resample G's images to this size (default: G's own), as DGN-AM resizes its
    generator's output to the network's input; :func:`~stochvis.optvis.optimize.optimize` asks for the
    model's input size unless given ``size``."""
    generator = torch.Generator().manual_seed(seed)
    if isinstance(init, torch.Tensor):
        codes = init.detach().float().cpu()
    elif init == "prior":
        codes = prior.initial_codes(batch, generator).cpu()
    elif init == "zeros":
        codes = torch.zeros(batch, *prior.code_shape)
    else:
        raise ValueError(f"unknown init {init!r}: use 'prior', 'zeros' or a tensor of codes")
    device = device or next(iter(prior.buffers()), torch.zeros(())).device
    param = GeneratorParam(prior, codes.to(device), l2=l2, size=size).to(device)
    param.project_()
    return param
