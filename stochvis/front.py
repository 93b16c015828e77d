"""The front door for your own model and your own images: two calls.

``visualize(model, target)`` — activation maximisation of a class, a channel or any objective with the recipe
that measured best; ``class_samples(model, folder, cls)`` — from a folder of images (one subfolder per class) to
the class's activation statistics to images sampled from them by stochastic deconvolution (the backward chain).
``model`` is a :class:`~stochvis.models.WrappedModel`, any ``torch.nn.Module`` (wrapped by
:func:`~stochvis.models.wrap_model`: ImageNet normalisation, the head's class names read from it), a zoo name
(:func:`~stochvis.models.available_models`) or ``"package.module:callable"`` returning either (:func:`as_model`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from stochvis import tokens
from stochvis.data import ImageSet, image_folder, resize_to
from stochvis.features import feature_key, parse_key
from stochvis.inputs import image_size as as_size
from stochvis.layers import call_counts, conv_layers, list_layers
from stochvis.methods.chain import ChainResult, chain_joints, reconstruct_chain
from stochvis.methods.inversion import calibrated_image_priors
from stochvis.models import LOGITS, WrappedModel, available_models, load_model, wrap_model
from stochvis.optvis import presets
from stochvis.optvis.optimize import OptimizationResult
from stochvis.stats.collection import collect_classes
from stochvis.stats.store import Statistics

# visualize's default, measured by scripts/measure_front_recipe.py (the numbers are in visualize's docstring).
DEFAULT_RECIPE = "olah2017"
DEFAULT_STEPS = 128
# class_samples: a chain layer is average-pooled to the largest g×g grid with C·g² within this many values (the
# dense Gaussian of two layers and their joint stays a few thousand dimensions: seconds, not minutes).
GRID_VALUES = 2048


def as_model(model, *, device: torch.device | str | None = None) -> WrappedModel:
    """A :class:`WrappedModel` from a WrappedModel (as is), an ``nn.Module`` (wrapped), a zoo name, or
    ``"package.module:callable"`` (called without arguments; it may return a WrappedModel or an nn.Module)."""
    if isinstance(model, WrappedModel):
        return model
    if isinstance(model, nn.Module):
        return wrap_model(model, device=device)
    if isinstance(model, str):
        if ":" in model:
            module_name, _, function = model.partition(":")
            built = getattr(importlib.import_module(module_name), function)()
            if not isinstance(built, nn.Module):
                raise TypeError(f"{model} returned {type(built).__name__}, not a WrappedModel or torch.nn.Module")
            return as_model(built, device=device)
        if model not in available_models():
            raise KeyError(f"unknown model {model!r}: a zoo name ({', '.join(available_models())}) or "
                           "'package.module:callable'")
        return load_model(model, device)
    raise TypeError(f"model must be a WrappedModel, a torch.nn.Module, a zoo name or 'package.module:callable'; "
                    f"got {type(model).__name__}")


def visualize(model, target, *, steps: int | None = None, size: int | tuple[int, int] | None = None, seed: int = 0,
              recipe: str | None = None, batch: int = 1, progress: bool = False, **options) -> OptimizationResult:
    """Activation maximisation of ``target`` on ``model`` in one call.

    ``target``: a class name or index, ``"layer:channel"``, ``(layer, channel)``, ``(layer, channel, y, x)`` or an
    :class:`~stochvis.optvis.objectives.Objective`. ``recipe``: a preset of :mod:`stochvis.optvis.presets`
    (default :data:`DEFAULT_RECIPE`, ``olah2017``); ``options`` go to it or to ``optimize`` (``lr``, ``spectrum``
    for ``fel2023``, ``setting`` for ``yosinski2015``…). ``steps`` default :data:`DEFAULT_STEPS` (128);
    ``size`` default the model's input size; ``seed`` fixes the start and every random transform
    (``result.settings["seed"]`` records it).

    Why olah2017 (measured with ``scripts/measure_front_recipe.py``, about 3 CPU-minutes in all: EfficientNet-Lite0
    subject, an EfficientNet-Lite1 judge never optimised, goldfinch / starfish / volcano at 128 px, one image each in
    one batch, 96 steps, 2 CPU cores shared with other work, so ms/step are ±30%). Per recipe: the judge's mean
    confidence at the end · the first second at which it reached 0.5 · its mean over the run's seconds · ms per
    step; seed 0, and seed 1 where rerun:

    ====================  ===========  ===========  ===========  =========
    recipe                judge (end)  ≥ 0.5 at     mean / run   ms/step
    ====================  ===========  ===========  ===========  =========
    simonyan2013          0.004        never        0.09         187
    yosinski2015 #0       0.67 · 0.97  3.9 · 2.7 s  0.54 · 0.61  123 · 171
    yosinski2015 #2       0.92         9.4 s        0.56         235
    garon2017             0.006        3.8 s        0.12         80
    **olah2017**          0.76 · 0.98  1.3 · 1.6 s  0.89 · 0.82  159 · 205
    fel2023 (short MACO)  1.00 · 0.99  2.7 · 3.4 s  0.80 · 0.72  169 · 210
    ====================  ===========  ===========  ===========  =========

    olah2017 reached the judge's confidence first and held the most of it per second in both runs; MACO (the
    ``short_maco`` setting) ends slightly more confident. By eye, olah2017's and MACO's images are the only ones
    with object-like structure (a starfish's arm, a volcano's cone); olah2017's colours are photographic where
    MACO's are saturated, and Simonyan's, Yosinski's and Garon's are high-frequency textures (Garon's saturation
    inversion also pushes the images back out of the judge's class by the end). MACO also needs a magnitude spectrum
    measured on natural photos, which a generic default cannot assume: pass ``recipe="fel2023", spectrum=...`` (and
    ``**presets.short_maco(size)`` at this budget) to use it.
    """
    model = as_model(model)
    name = DEFAULT_RECIPE if recipe is None else recipe
    if name not in presets.PRESETS:
        raise KeyError(f"unknown recipe {name!r}: choose from {', '.join(presets.PRESETS)}")
    steps = DEFAULT_STEPS if steps is None else steps
    result = presets.run(name, model, target, steps=steps, size=size if size is not None else tuple(model.input_size),
                         seed=seed, batch=batch, progress=progress, **options)
    result.settings.update(seed=seed, recipe=name)
    return result


@dataclass
class ClassSamples:
    """What :func:`class_samples` made: ``images`` (n, C, H, W) in [0, 1], the class, the chain's feature keys
    (deep → shallow), the class's statistics, the chain (draws, inversion, typicality) and the seed."""

    images: torch.Tensor
    cls: str
    layers: tuple[str, ...]
    statistics: Statistics
    chain: ChainResult
    seed: int


def chain_layers(model: WrappedModel, size: int | tuple[int, int] | None = None) -> list[str]:
    """The layers :func:`class_samples` chains when none are named, deep → shallow: the deepest layer at 1/16 of
    the input side and the deepest at 1/8 (VGG16: ``conv5_3``, ``conv4_3``; ResNet-18: ``layer3``, ``layer2``;
    EfficientNet-Lite0: ``block4``, ``block2``). Layers are the model's aliases when it has them, else every module
    (block containers included: they finish last); modules run twice per forward and maps under 2×2 are skipped.
    Where both resolutions do not exist (a transformer's tokens are all at the patch stride, a tiny net): the last
    block of the deepest resolution (an item of a Sequential or ModuleList) and the block before it in the same
    stack (a ViT: its last two encoder layers), else the last two maps."""
    size = as_size(size) if size is not None else tuple(model.input_size)
    named = set(conv_layers(model)) if model.aliases else None
    reused = call_counts(model)
    maps: list[tuple[str, str, int]] = []  # (name, path, stride) in execution order
    for info in list_layers(model, size):
        if info.shape is None or info.path == LOGITS or reused.get(info.path, 1) > 1:
            continue
        if named is not None and info.name not in named:
            continue
        shape = tokens.map_shape(info.shape, model)
        if len(shape) == 3 and min(shape[1:]) >= 2:
            maps.append((info.name, info.path, round(min(size) / min(shape[1:]))))
    if not maps:
        raise ValueError(f"{model.name} has no spatial layer (maps of at least 2×2) at {size[0]}×{size[1]}: name "
                         "the layers to chain with layers=[...]")
    deepest = {stride: name for name, _, stride in maps}  # the last layer seen at each stride
    if 16 in deepest and 8 in deepest:
        return [deepest[16], deepest[8]]
    modules = dict(model.net.named_modules())
    stride = maps[-1][2]
    blocks = [(n, p.rpartition(".")[0]) for n, p, s in maps if s == stride
              and isinstance(modules.get(p.rpartition(".")[0]), (nn.Sequential, nn.ModuleList))]
    siblings = [n for n, parent in blocks if blocks and parent == blocks[-1][1]]  # the last block and its stack
    chosen = siblings[-2:] if len(siblings) >= 2 else [n for n, _, _ in maps][-2:]
    return list(reversed(chosen))


def _grid_key(model: WrappedModel, layer: str, shapes: dict[str, tuple]) -> str:
    """``layer/grid<g>`` with the largest g ≤ the map side and C·g² ≤ :data:`GRID_VALUES`; keys kept as given.
    ``shapes``: {layer name or path: output shape} at the collection size."""
    if "/" in layer:
        parse_key(layer)  # a malformed key fails here, with the valid forms
        return layer
    if shapes.get(layer) is None:
        model.resolve(layer)  # an unknown name: KeyError with the closest valid ones
        raise ValueError(f"{model.name}'s layer {layer!r} does not run in its forward: name another")
    shape = tokens.map_shape(shapes[layer], model)
    if len(shape) != 3:
        return feature_key(layer, "pooled")
    g = 1
    while g + 1 <= min(shape[1:]) and shape[0] * (g + 1) ** 2 <= GRID_VALUES:
        g += 1
    return feature_key(layer, "grid", g)


def class_samples(model, folder: str | Path | ImageSet, cls: str | int, *, n: int = 4,
                  layers: Sequence[str] | None = None, seed: int = 0, image_size: int | tuple[int, int] | None = None,
                  steps: int = 200, lr: float = 0.05, batch_size: int = 16, progress: bool = False,
                  **chain_options) -> ClassSamples:
    """Images of class ``cls`` sampled from the statistics of ``folder``'s images of it, in one call.

    ``folder``: one subfolder per class (:func:`stochvis.data.image_folder`), or an ImageSet. Only ``cls``'s images
    are streamed (at least 2; many more than a few dozen for faithful statistics): grid statistics of ``layers`` and
    their neighbours' joints (:func:`stochvis.stats.collect_classes`), then the backward chain
    (:func:`stochvis.methods.chain.reconstruct_chain`): the deepest layer drawn from the class model, each shallower
    one given it, and ``n`` images inverted against all drawn layers with image priors calibrated on the class's own
    images (TV 0.3 and α-norm 0.1 of a typical image's, from their mean image).
    ``layers``: deep → shallow layer names (each pooled to a grid of at most :data:`GRID_VALUES` values) or feature
    keys (``"layer3/grid2"``); default :func:`chain_layers`. ``image_size``: default the model's input size.
    ``chain_options`` go to ``reconstruct_chain`` (``density``, ``temperature``, ``rectify``...).
    """
    model = as_model(model)
    images = folder if isinstance(folder, ImageSet) else image_folder(folder)
    subset = images.of_class(images.classes[cls] if isinstance(cls, int) and not isinstance(cls, bool) else cls)
    name = subset.classes[subset.labels[0]]
    if len(subset) < 2:
        raise ValueError(f"class {name!r} of {images.name} has {len(subset)} image: class statistics need at least 2 "
                         "(and many more than a few dozen to be faithful)")
    size = as_size(image_size) if image_size is not None else tuple(model.input_size)
    chosen = list(layers) if layers is not None else chain_layers(model, size)
    shapes = {key: info.shape for info in list_layers(model, size) for key in (info.name, info.path)}
    keys = [_grid_key(model, layer, shapes) for layer in chosen]
    plain = list(dict.fromkeys(parse_key(k)[0] for k in keys))
    grids = [k for k in keys if parse_key(k)[1] != "pooled"]
    per_class = collect_classes(model, subset, plain, pooled=[parse_key(k)[0] for k in keys if k not in grids],
                                maps=grids, joint=chain_joints(keys), image_size=size, batch_size=batch_size,
                                progress=progress)
    stats = per_class[name]
    real = subset.tensors(resize_to(size, grey=model.in_channels == 1))[0]
    priors = calibrated_image_priors(real, tv=0.3, norm=0.1, init="mean_image", centre="mean_image")
    result = reconstruct_chain(model, stats, keys, n, priors=priors, seed=seed, steps=steps, lr=lr, **chain_options)
    return ClassSamples(result.images, name, tuple(keys), stats, result, seed)
