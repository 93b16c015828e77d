"""Named recipes of the literature, as keyword arguments for :func:`stochvis.optvis.optimize.optimize`.

Each builder returns a dict (``param``, ``regularizers``, ``optimizer``, ``lr``, ``steps``,
``octaves``) that can be inspected, edited and passed on: ``optimize(model, objective, **cfg)``.
:func:`run` does both, with overrides.

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

from stochvis.models import LOGITS, WrappedModel
from stochvis.optvis import params as P
from stochvis.optvis import regularizers as R
from stochvis.optvis.objectives import Objective
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
    (0.005) at lr 0.02 the pixels pile up at the range limits and the images turn to saturated noise. Saturation inversion is kept only for class objectives (an
    objective that reads the logits) or when ``objective`` is not given.
    """
    regs: list[R.Regularizer] = [R.jitter(jitter), R.blur_gradient(max_kernel), R.normalize_gradient()]
    if saturation is not None and (objective is None or LOGITS in objective.layers):
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


PRESETS: dict[str, Callable[..., dict]] = {
    "simonyan2013": simonyan2013,
    "yosinski2015": yosinski2015,
    "garon2017": garon2017,
    "olah2017": olah2017,
}


def config(name: str, objective: Objective | None = None, **options) -> dict:
    """The keyword arguments of preset ``name`` with ``options`` for the builder applied."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}: choose from {', '.join(PRESETS)}")
    builder = PRESETS[name]
    if "objective" in inspect.signature(builder).parameters:
        options["objective"] = objective
    return builder(**options)


def run(name: str, model: WrappedModel, objective: Objective, **overrides) -> OptimizationResult:
    """Run preset ``name``. ``overrides`` go to the preset builder where it takes them (e.g.
    ``setting=2``, ``decay=0.01``) and to :func:`optimize` otherwise (``batch``, ``size``, ``seed``...);
    ``steps``/``lr`` are accepted by both and end up in ``optimize``."""
    builder_args = set(inspect.signature(PRESETS[name]).parameters) if name in PRESETS else set()
    options = {k: v for k, v in overrides.items() if k in builder_args}
    rest = {k: v for k, v in overrides.items() if k not in builder_args}
    kwargs = config(name, objective, **options)
    kwargs.update(rest)
    return optimize(model, objective, **kwargs)


def regularizers_from(
    *,
    jitter: int = 0,
    scale: float = 0.0,
    rotate: float = 0.0,
    blur_kernel: int = 1,
    normalize: bool = True,
    saturation: float | None = None,
    decay: float = 0.0,
    blur_sigma: float = 0.0,
    blur_every: int = 4,
    norm_pct: float = 0.0,
    contribution_pct: float = 0.0,
    tv: float = 0.0,
    l2: float = 0.0,
) -> list[R.Regularizer]:
    """A regulariser list from plain strengths, zero meaning "off" (what the widget sliders set).
    ``scale`` is the largest relative zoom (±), ``rotate`` the largest angle (±°)."""
    regs: list[R.Regularizer] = []
    if jitter:
        regs.append(R.jitter(int(jitter)))
    if scale:
        regs.append(R.random_scale([1 + scale * (i - 5) / 5 for i in range(11)]))
    if rotate:
        regs.append(R.random_rotate([rotate * (i - 5) / 5 for i in range(11)]))
    if blur_kernel > 1:
        regs.append(R.blur_gradient(int(blur_kernel)))
    if normalize:
        regs.append(R.normalize_gradient())
    if saturation is not None and saturation < 1.0:
        regs.append(R.invert_when_saturated(saturation))
    if decay:
        regs.append(R.decay(decay))
    if blur_sigma >= 0.3 and blur_every:
        regs.append(R.blur_image(blur_sigma, int(blur_every)))
    if norm_pct:
        regs.append(R.clip_small_norm(norm_pct))
    if contribution_pct:
        regs.append(R.clip_small_contribution(contribution_pct))
    if tv:
        regs.append(R.total_variation(tv))
    if l2:
        regs.append(R.l2(l2))
    return regs
