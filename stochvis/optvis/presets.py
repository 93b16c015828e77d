"""Named recipes of the literature, as keyword arguments for :func:`stochvis.optvis.optimize.optimize`.

Each builder returns a dict (``param``, ``regularizers``, ``optimizer``, ``lr``, ``steps``,
``octaves``, and where the recipe needs them ``importance``, ``batch``, ``size``) that can be
inspected, edited and passed on: ``optimize(model, objective, **cfg)``. :func:`run` does both, with
overrides. A builder that changes the objective itself (feature accentuation adds an anchor term)
returns it as ``cfg["objective"]``, and one that needs the model takes a ``model`` argument;
:func:`run` handles both.

Learning rates: the papers step in Caffe's 0..255 pixel units with their networks' gradient
scales, which do not carry over to [0, 1] images and other networks. Except for the Simonyan
baseline (plain ascent, as in the paper), the presets therefore normalise the gradient
(``NormalizeGradient``) so ``lr`` is the mean pixel change per step in [0, 1] units, whatever the
network — our adaptation, stated here rather than hidden in the numbers.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path

import torch

from stochvis.inputs import check_images, image_size
from stochvis.models import WrappedModel
from stochvis.optvis import params as P
from stochvis.optvis import regularizers as R
from stochvis.optvis.accentuation import activation_anchor
from stochvis.optvis.maco import MagnitudeSpectrum, maco
from stochvis.optvis.objectives import Objective, as_objective
from stochvis.optvis.optimize import Octaves, OptimizationResult, optimize


def simonyan2013(*, weight: float = 0.05, lr: float = 1.0, steps: int = 200) -> dict:
    """Simonyan, Vedaldi & Zisserman 2013, "Deep Inside Convolutional Networks", class model
    visualisation: argmax_x S_c(x) − λ‖x‖², S_c the *unnormalised* class score (not the softmax),
    x the mean-subtracted image, plain gradient ascent from the zero image (here: mid-grey).
    The paper does not report λ or the step size that we could find; ``weight`` (λ, on centred
    [0, 1] pixels, summed) and ``lr`` are ours, chosen so the logit rises within ~100 steps at
    128–224 px on EfficientNet-Lite0. The objective to pass is ``objectives.class_logit``.
    """
    return dict(param=functools.partial(P.pixel, init="zeros"), regularizers=[R.l2(weight)],
                optimizer="sgd", lr=lr, steps=steps, octaves=None)


# Yosinski, Clune, Nguyen, Fuchs & Lipson 2015, "Understanding Neural Networks Through Deep
# Visualization" (arXiv:1506.06579), Table 1: four hyperparameter combinations found by random
# search, each producing a different style of recognisable image. Columns: θ_decay (L2 decay per
# step), θ_b_width (Gaussian blur σ, px), θ_b_every (blur every n steps), θ_n_pct (small-norm clip
# percentile), θ_c_pct (small-contribution clip percentile). Their code (deep-visualization-toolbox,
# optimize_image.py) shows setting 3 run with lr 100 for 1000 steps on 0..255 images.
YOSINSKI_TABLE_1 = (
    dict(decay=0.0, blur_sigma=0.5, blur_every=4, norm_pct=50.0, contribution_pct=0.0),
    dict(decay=0.3, blur_sigma=0.0, blur_every=0, norm_pct=20.0, contribution_pct=0.0),
    dict(decay=0.0001, blur_sigma=1.0, blur_every=4, norm_pct=0.0, contribution_pct=0.0),
    dict(decay=0.0, blur_sigma=0.5, blur_every=4, norm_pct=0.0, contribution_pct=90.0),
)


def yosinski2015(setting: int = 0, *, lr: float = 0.02, steps: int = 200) -> dict:
    """One of the four rows (``setting`` 0..3) of Yosinski et al. 2015's Table 1 (values in
    :data:`YOSINSKI_TABLE_1`), applied as r1 projections after plain ascent steps on pixels.
    The gradient is normalised (see the module note); the paper's lr 100 is in other units."""
    if setting not in range(len(YOSINSKI_TABLE_1)):
        raise ValueError(f"Yosinski et al. 2015 Table 1 has settings 0..{len(YOSINSKI_TABLE_1) - 1}, not {setting}")
    row = YOSINSKI_TABLE_1[setting]
    regs: list[R.Regularizer] = [R.normalize_gradient()]
    if row["decay"]:
        regs.append(R.decay(row["decay"]))
    if row["blur_sigma"] and row["blur_every"]:
        regs.append(R.blur_image(row["blur_sigma"], row["blur_every"]))
    if row["norm_pct"]:
        regs.append(R.clip_small_norm(row["norm_pct"]))
    if row["contribution_pct"]:
        regs.append(R.clip_small_contribution(row["contribution_pct"]))
    return dict(param="pixel", regularizers=regs, optimizer="sgd", lr=lr, steps=steps, octaves=None)


def garon2017(
    objective: Objective | None = None,
    *,
    decay: float = 0.02,
    max_kernel: int = 9,
    norm_pct: float = 30.0,
    jitter: int = 8,
    octaves: int | None = 3,
    saturation: float | None = 0.99,
    lr: float = 0.01,
    steps: int = 200,
) -> dict:
    """The source documents' combination (Garon, Zhang & Rezaei, the visualisation-tool report):
    x ← r1(x + η·r2(∂a/∂x)) with r1 = L2 decay (1−θ)x and small-norm pixel clipping, r2 = Gaussian
    blur of the gradient with a kernel size drawn at random every step, plus jitter, octaves and
    gradient inversion while the target's softmax is saturated. The report gives no numbers; ours
    are chosen by eye at 128 px on EfficientNet-Lite0 (goldfinch, starfish): with a weaker decay
    (0.005) at lr 0.02 the pixels pile up at the range limits and the images turn to saturated noise. Saturation
    inversion is kept only for class objectives — those that carry their classes (``objective.classes``: a class
    index or name, ``class_logit``/``class_probability``, sums of them), the classes it watches — or when
    ``objective`` is not given; a channel, a neuron or ``("logits", k)`` run without it.
    """
    regs: list[R.Regularizer] = [R.jitter(jitter), R.blur_gradient(max_kernel), R.normalize_gradient()]
    if saturation is not None and (objective is None or getattr(objective, "classes", None) is not None):
        regs.append(R.invert_when_saturated(saturation))
    regs += [R.decay(decay), R.clip_small_norm(norm_pct)]
    return dict(param="pixel", regularizers=regs, optimizer="sgd", lr=lr, steps=steps,
                octaves=Octaves(octaves) if octaves else None)


def olah2017(*, lr: float = 0.05, steps: int = 256, decorrelate: bool = True) -> dict:
    """Olah, Mordvintsev & Schubert 2017, "Feature Visualization" (Distill): Fourier-basis image
    with 1/f scaling and decorrelated colour, sigmoid to [0, 1], Adam (lr 0.05, 512 steps in
    Lucent's default render), and the transformation robustness of Lucent's standard transforms:
    pad 12, jitter 8, random scale 0.9–1.1, rotation −10..10°, jitter 4."""
    return dict(param=functools.partial(P.fft, decorrelate=decorrelate),
                regularizers=[R.pad(12), R.jitter(8), R.random_scale(), R.random_rotate(), R.jitter(4)],
                optimizer="adam", lr=lr, steps=steps, octaves=None)


def fel2023(
    spectrum: MagnitudeSpectrum | str | Path | None = None,
    *,
    crops: int = 8,
    box: tuple[float, float] = (0.5, 0.05),
    noise_std: float = 0.04,
    noise_uniform: float = 0.02,
    mapping: str = "natural",
    lr: float = 1.0,
    steps: int = 256,
) -> dict:
    """Fel et al. 2023, "Unlocking Feature Visualization for Deeper Networks with MAgnitude
    Constrained Optimization" (MACO): only the phase of the image's Fourier spectrum is optimised,
    its magnitude fixed to ``spectrum``, the average of natural images (:mod:`stochvis.optvis.maco`);
    NAdam with lr 1.0 on the phase; every step sees ``crops`` random crops of each image plus noise
    (:class:`~stochvis.optvis.regularizers.RandomCrops`: mean crop side ``box[0]`` → ``box[1]``, noise
    in [0, 1] units); 256 steps; importance masks on (MACO's "transparency": where the objective's
    gradient fell, to fade out the parts of the image that did not matter).

    Values follow Xplique's ``maco`` except the number of crops: Xplique uses 32 crops per step and
    Horama (Fel's PyTorch MACO) 6; 8 keeps a CPU step affordable — raise it on a GPU. Xplique
    optimises a 512 px image whose crops go to the model's input size; pass ``size=512`` to do the
    same (the spectrum is resampled), since at the model's own size the last crops (5% of the side)
    are a few pixels wide.

    ``spectrum`` is required: measure one with ``maco.measure_spectrum(images, size)`` on natural
    images in [0, 1] (a few hundred photos at the size you optimise), or load a file written by
    ``MagnitudeSpectrum.save``; ``presets.run("fel2023", model, objective, spectrum=...)``.
    """
    if spectrum is None:
        raise ValueError("fel2023 (MACO) needs the magnitude spectrum of natural images: measure one with "
                         "stochvis.optvis.maco.measure_spectrum(images, size) on images in [0, 1] and pass "
                         "spectrum=... (or the path of a file written by MagnitudeSpectrum.save)")
    if not isinstance(spectrum, MagnitudeSpectrum):
        spectrum = MagnitudeSpectrum.load(spectrum)
    return dict(param=functools.partial(maco, spectrum, mapping=mapping),
                regularizers=[R.random_crops(crops, box, noise_std=noise_std, noise_uniform=noise_uniform)],
                optimizer="nadam", lr=lr, steps=steps, octaves=None, importance=True)


# MACO on a short budget (tens of steps, not 256): crops that stay large (mean side 1.0 → 0.7 of the image),
# resampled to the image's size, 2 per step, phase lr 0.3. The paper's lr 1.0 and 0.5 → 0.05 schedule leave the
# images at chance at this budget (notebook 02). The one statement of that setting: tables, panels, notebooks.
SHORT_MACO_CROPS, SHORT_MACO_BOX, SHORT_MACO_LR = 2, (1.0, 0.7), 0.3


def short_maco(size: int | tuple[int, int], *, crops: int = SHORT_MACO_CROPS,
               box: tuple[float, float] = SHORT_MACO_BOX, lr: float = SHORT_MACO_LR) -> dict:
    """Keyword arguments that turn ``presets.run("fel2023", ...)`` into its short-run setting at ``size``."""
    size = image_size(size)
    return dict(regularizers=[R.random_crops(crops, box, size=size)], lr=lr, size=size)


def hamblin2024(
    objective: Objective | None = None,
    *,
    model: WrappedModel | None = None,
    seed_images: torch.Tensor | None = None,
    layer: str | None = None,
    weight: float = 1.0,
    size: int | tuple[int, int] | None = None,
    lr: float = 0.01,
    steps: int = 128,
) -> dict:
    """Hamblin et al. 2024, feature accentuation: raise ``objective`` starting from ``seed_images``
    (pixels initialised from them, one optimised image per seed) while
    :func:`~stochvis.optvis.accentuation.activation_anchor` keeps the activations of ``layer`` near the
    seeds' (relative L2 distance times ``weight``), so the image shows what the unit sees *in the seed*.

    ``layer``: default the objective's layer when it reads exactly one. ``size``: default the model's
    input size (the seeds are resized to it). No transforms, so that the anchor compares like with
    like and is exactly zero at the first step; Adam, lr 0.01 (≈ 1% of the pixel range per step),
    128 steps: our choices for pixels. faccent (the paper's code) optimises a Fourier parameterisation
    initialised from the seed, under random crops, and scales the anchor's weight by the ratio of the
    two terms' gradients at the start; ``weight`` 1 here means a 10% relative drift of ``layer`` costs
    0.1 in the objective's units, so scale it to the unit's typical activation. Returns the objective
    with the anchor added as ``cfg["objective"]``."""
    if objective is None or model is None or seed_images is None:
        raise ValueError("hamblin2024 (feature accentuation) needs the unit's objective, the model and "
                         "seed_images (N, C, H, W) in [0, 1]: presets.accentuate(model, objective, seed_images)")
    objective = as_objective(objective)
    if layer is None:
        if len(objective.layers) != 1:
            raise ValueError(f"objective {objective.name!r} reads {sorted(objective.layers)}: "
                             "name the layer to anchor with layer=...")
        (layer,) = objective.layers
    seeds = check_images(model, seed_images, name="seed_images").cpu()  # the one gate: uint8, range, channels
    target = image_size(size) if size is not None else tuple(model.input_size)
    start = functools.partial(P.pixel, init=seeds, channels=seeds.shape[1])
    with torch.no_grad():  # the anchor's reference is the seed exactly as the loop will render it at step 0
        rendered = start(batch=seeds.shape[0], size=target)()
    anchored = objective + activation_anchor(model, layer, rendered, weight)
    return dict(objective=anchored, param=start, batch=seeds.shape[0], size=target, regularizers=[],
                optimizer="adam", lr=lr, steps=steps, octaves=None)


def nguyen2016(prior, *, l2: float = 1e-3, lr: float = 0.05, steps: int = 200) -> dict:
    """Nguyen et al. 2016, DGN-AM: optimise the code of a generator prior (a
    :class:`~stochvis.methods.generator_prior.GeneratorPrior`) instead of pixels, an L2 penalty on the
    code, every step clipped to the prior's box (DGN-AM's [0, mean + 3·std] for a ReLU code); Adam,
    lr 0.05, no image regulariser: the generator is the prior. ``batch`` codes are random restarts."""
    return dict(param=functools.partial(P.generator_latent, prior, l2=l2), regularizers=[], lr=lr, steps=steps)


PRESETS: dict[str, Callable[..., dict]] = {
    "simonyan2013": simonyan2013,
    "yosinski2015": yosinski2015,
    "garon2017": garon2017,
    "olah2017": olah2017,
    "fel2023": fel2023,
    "hamblin2024": hamblin2024,
    "nguyen2016": nguyen2016,
}


def config(name: str, objective: Objective | None = None, *, model: WrappedModel | None = None, **options) -> dict:
    """The keyword arguments of preset ``name`` with ``options`` for the builder applied (``objective``
    and ``model`` go to the builders that take them)."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}: choose from {', '.join(PRESETS)}")
    builder = PRESETS[name]
    if objective is not None:
        objective = as_objective(objective)
    parameters = inspect.signature(builder).parameters
    if "objective" in parameters:
        options["objective"] = as_objective(objective) if objective is not None else None
    if "model" in parameters:
        options["model"] = model
    return builder(**options)


def run(name: str, model: WrappedModel, objective: Objective | int | str | tuple, **overrides) -> OptimizationResult:
    """Run preset ``name``. ``overrides`` go to the preset builder where it takes them (e.g.
    ``setting=2``, ``decay=0.01``) and to :func:`optimize` otherwise (``batch``, ``size``, ``seed``...);
    ``steps``/``lr`` are accepted by both and end up in ``optimize``. A preset that returns its own
    objective (``hamblin2024``) has it optimised in place of ``objective``. ``objective`` may be any
    target :func:`optimize` takes (a class, ``(layer, channel)``...); the default parameterisations
    take their channel count from the model, so grey models work as they are."""
    builder_args = set(inspect.signature(PRESETS[name]).parameters) if name in PRESETS else set()
    options = {k: v for k, v in overrides.items() if k in builder_args}
    rest = {k: v for k, v in overrides.items() if k not in builder_args}
    kwargs = config(name, objective, model=model, **options)
    kwargs.update(rest)
    objective = kwargs.pop("objective", objective)
    return optimize(model, objective, **kwargs)


def accentuate(model: WrappedModel, objective: Objective, seed_images: torch.Tensor, *, layer: str | None = None,
               weight: float = 1.0, **overrides) -> OptimizationResult:
    """Feature accentuation of ``seed_images`` for ``objective``: :func:`hamblin2024` through :func:`run`
    (``overrides`` as there: ``steps``, ``lr``, ``size``, ``importance=True``...)."""
    return run("hamblin2024", model, objective, seed_images=seed_images, layer=layer, weight=weight, **overrides)
