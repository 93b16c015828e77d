"""stochvis: see what a convolutional network has learned, and make those pictures realistic.

The front door: the main verbs by name, so a first try works::

    import stochvis
    result = stochvis.visualize(torchvision_model, "starfish")          # any nn.Module, zoo name or WrappedModel
    samples = stochvis.class_samples(model, "my_photos/", "cats", n=4)  # a folder with one subfolder per class
    model = stochvis.load_model("vgg16")
    acts = stochvis.capture(model, images, ["conv3_3"])
    result = stochvis.optimize(model, stochvis.objectives.channel("conv4_3", 7), steps=64)

Names are resolved lazily (``__getattr__``), so ``import stochvis`` stays cheap and installs the
torchvision guard before anything imports torchvision. The stages live in sub-packages:
``optvis`` (objectives, params, regularizers, the loop, presets), ``stats`` (class statistics),
``methods`` (inversion, stochastic deconvolution, priors), ``evaluation``, ``worlds``, ``viz``.
"""

from __future__ import annotations

import importlib
from typing import Any

from stochvis import _torchvision_guard

_torchvision_guard.install()

__version__ = "0.1.0"

# name -> module that owns it
_EXPORTS = {
    "load_model": "stochvis.models", "wrap_model": "stochvis.models", "available_models": "stochvis.models",
    "register_model": "stochvis.models", "WrappedModel": "stochvis.models",
    "check_images": "stochvis.inputs",
    "capture": "stochvis.layers", "list_layers": "stochvis.layers", "layer_shape": "stochvis.layers",
    "gradient": "stochvis.attribution", "smoothgrad": "stochvis.attribution",
    "guided_backprop": "stochvis.attribution", "deconvnet": "stochvis.attribution",
    "optimize": "stochvis.optvis.optimize", "Octaves": "stochvis.optvis.optimize",
    "collect": "stochvis.stats.collection", "collect_classes": "stochvis.stats.collection",
    "Statistics": "stochvis.stats.store",
    "invert": "stochvis.methods.inversion", "image_priors": "stochvis.methods.inversion",
    "stochastic_deconvolution": "stochvis.methods.deconvolution",
    "statistics_prior": "stochvis.methods.class_prior",
    "save_figure": "stochvis.viz.display",
    "visualize": "stochvis.front", "class_samples": "stochvis.front",
}
_MODULES = {
    "objectives": "stochvis.optvis.objectives", "params": "stochvis.optvis.params",
    "regularizers": "stochvis.optvis.regularizers", "presets": "stochvis.optvis.presets",
    "metrics": "stochvis.evaluation.metrics", "data": "stochvis.data", "stats": "stochvis.stats",
}
__all__ = sorted([*_EXPORTS, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    raise AttributeError(f"module 'stochvis' has no attribute {name!r}; the front door offers: {', '.join(__all__)}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
