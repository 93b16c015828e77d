"""Capture activations by layer name, in one forward pass that stops after the deepest layer needed.

Why a stopping forward: optimising a conv3_3 channel on VGG16 needs 40% of the network's FLOPs,
not all of it. We stop by raising from a forward hook once every requested layer has been seen,
which works for any ``nn.Module`` (no assumption of ``model.features`` or of a Sequential).
Captured tensors stay in the autograd graph, so gradients flow from them to the image.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from stochvis import tokens
from stochvis.models import LOGITS, WrappedModel, split_call

# call_counts' probe result per model, held here rather than on the model (it is this module's knowledge).
_CALL_COUNTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _StopForward(Exception):
    """Raised from a hook once every requested activation has been captured."""


@dataclass(frozen=True)
class LayerInfo:
    name: str  # friendly alias where one exists, else the module path
    path: str  # module path inside model.net
    type: str  # module class name
    shape: tuple[int, ...] | None  # output shape without the batch dim, at the probed input size

    @property
    def channels(self) -> int | None:
        return tokens.channel_count(self.shape) if self.shape else None  # a token layer's: its hidden units


def _as_names(layers: str | Iterable[str]) -> list[str]:
    return [layers] if isinstance(layers, str) else list(layers)


def _first_tensor(output) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"layer output of type {type(output).__name__} is not a tensor")


def capture(
    model: WrappedModel,
    images: torch.Tensor,
    layers: str | Iterable[str],
    *,
    stop_early: bool = True,
    grey_to_rgb: bool = False,
) -> dict[str, torch.Tensor]:
    """Activations of ``layers`` (names as given) for ``images`` in [0, 1].

    ``images`` pass :func:`stochvis.inputs.check_images` (uint8 is divided by 255; values outside
    [0, 1], NaN and wrong channel counts are refused). With ``stop_early`` the forward pass ends
    right after the last requested layer has produced its output. ``"logits"`` (or any alias of the
    output) runs the whole network.

    A module called more than once per forward (torchvision's ResNet ``BasicBlock`` reuses
    ``self.relu``) has no single activation: its bare name is refused, and ``"<name>#k"`` names its
    k-th call (from 0), e.g. ``"layer1.0.relu#1"``. Why refuse rather than pick one: the answer
    would otherwise depend on which other layers were requested (where the forward stops).
    """
    from stochvis.inputs import check_images

    names = _as_names(layers)
    if not names:
        raise ValueError("capture needs at least one layer name")
    images = check_images(model, images, grey_to_rgb=grey_to_rgb)
    wanted: dict[str, tuple[str, int | None]] = {name: _split_call(model, name) for name in names}
    reused = call_counts(model)
    for name, (path, call) in wanted.items():
        count = reused.get(path, 1)
        if call is None and count > 1:
            raise ValueError(_reused_message(model, name, path, count))
        if call is not None and call >= count:
            raise IndexError(f"{model.name} calls {path!r} {count} time(s) per forward: calls are "
                             f"{', '.join(f'{path}#{k}' for k in range(count))}; got {name!r}")
    slots = set(wanted.values())
    need_output = any(path == LOGITS for path, _ in slots)
    found: dict[tuple[str, int | None], torch.Tensor] = {}
    calls: dict[str, int] = {}
    handles = []

    def make_hook(path: str):
        def hook(_module, _inputs, output):
            k = calls.get(path, 0)
            calls[path] = k + 1
            for slot in ((path, None), (path, k)):
                if slot in slots:
                    if slot in found and slot[1] is None:  # a second call the probe did not see
                        raise ValueError(_reused_message(model, path, path, k + 1))
                    found[slot] = _first_tensor(output)
            if stop_early and not need_output and slots <= set(found):
                raise _StopForward

        return hook

    modules = dict(model.net.named_modules())
    for path in {path for path, _ in slots} - {LOGITS}:
        handles.append(modules[path].register_forward_hook(make_hook(path)))
    try:
        output = model(images)
        if need_output:
            found[(LOGITS, None)] = output
    except _StopForward:
        pass
    finally:
        for handle in handles:
            handle.remove()
    missing = slots - set(found)
    if missing:
        raise RuntimeError(f"layers {sorted(p if k is None else f'{p}#{k}' for p, k in missing)} were never called "
                           f"in {model.name}'s forward (modules defined but unused, or called functionally)")
    return {name: found[slot] for name, slot in wanted.items()}


def _split_call(model: WrappedModel, name: str) -> tuple[str, int | None]:
    """(module path, call index or None) for ``"layer"`` or ``"layer#k"``."""
    base, call = split_call(name)
    return model.resolve(base), call


def _reused_message(model: WrappedModel, name: str, path: str, count: int) -> str:
    calls = ", ".join(f"{name}#{k}" for k in range(count))
    return (f"{model.name}'s module {path!r} is called {count} times per forward (a reused module, e.g. "
            f"ResNet's shared relu), so {name!r} has no single activation; name one call: {calls}")


def call_counts(model: WrappedModel) -> dict[str, int]:
    """How many times each module runs in one forward at the native input size, for the modules
    that run more than once (found once per model by a probe forward, then cached)."""
    cached = _CALL_COUNTS.get(model)
    if cached is not None:
        return cached
    counts: dict[str, int] = {}
    modules = [(path, module) for path, module in model.net.named_modules() if path]
    # The probe must be invisible: other hooks (a caller's, a capture in progress) are set aside for it.
    saved = [(module, module._forward_hooks, module._forward_pre_hooks) for _, module in modules]
    try:
        for path, module in modules:
            module._forward_hooks, module._forward_pre_hooks = OrderedDict(), OrderedDict()

            def hook(_module, _inputs, _output, path=path):
                counts[path] = counts.get(path, 0) + 1

            module.register_forward_hook(hook)
        with torch.no_grad():
            model(torch.zeros(1, model.in_channels, *model.input_size, device=model.device))
    except Exception:  # noqa: BLE001 - a model that cannot run at its declared size: run-time detection only
        counts = {}
    finally:
        for module, forward_hooks, pre_hooks in saved:
            module._forward_hooks, module._forward_pre_hooks = forward_hooks, pre_hooks
    result = {path: n for path, n in counts.items() if n > 1}
    _CALL_COUNTS[model] = result
    return result


def forward_to(model: WrappedModel, images: torch.Tensor, layer: str) -> torch.Tensor:
    """The activation of one layer, the forward pass stopped right after it."""
    return capture(model, images, [layer])[layer]


def list_layers(
    model: WrappedModel,
    input_size: tuple[int, int] | None = None,
    *,
    leaves_only: bool = False,
) -> list[LayerInfo]:
    """Every module (in execution order) with its output shape at ``input_size`` (default native).

    Aliased layers carry their friendly name. Modules never called in forward get ``shape=None``.
    """
    height, width = input_size or model.input_size
    order: list[str] = []
    shapes: dict[str, tuple[int, ...]] = {}
    modules = [(path, module) for path, module in model.net.named_modules() if path]
    handles = []
    for path, module in modules:
        if leaves_only and list(module.children()):
            continue

        def hook(_module, _inputs, output, path=path):
            if path not in shapes:
                order.append(path)
                try:
                    shapes[path] = tuple(_first_tensor(output).shape[1:])
                except TypeError:
                    shapes[path] = ()

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.zeros(1, model.in_channels, height, width, device=model.device))
    finally:
        for handle in handles:
            handle.remove()
    by_path = {path: module for path, module in modules}
    alias_of: dict[str, str] = {}
    for alias, path in model.aliases.items():
        alias_of.setdefault(path, alias)
    infos = [LayerInfo(alias_of.get(p, p), p, type(by_path[p]).__name__, shapes[p]) for p in order]
    unused = [p for p, _ in modules if p not in shapes and (not leaves_only or not list(by_path[p].children()))]
    infos += [LayerInfo(alias_of.get(p, p), p, type(by_path[p]).__name__, None) for p in unused]
    return infos


def layer_shape(model: WrappedModel, layer: str, input_size: tuple[int, int] | None = None) -> tuple[int, ...]:
    """Output shape (without batch) of one layer at ``input_size`` (default: native size)."""
    height, width = input_size or model.input_size
    with torch.no_grad():
        probe = torch.zeros(1, model.in_channels, height, width, device=model.device)
        return tuple(forward_to(model, probe, layer).shape[1:])


def check_channel(model: WrappedModel, layer: str, channel: int, input_size: tuple[int, int] | None = None) -> int:
    """``channel`` if ``layer`` has it, else an error naming the valid range."""
    from stochvis.inputs import as_index  # a channel 1.7 is refused, not truncated

    channel = as_index(channel, "channel")
    channels = tokens.channel_count(layer_shape(model, layer, input_size))  # (T, D) tokens: D hidden units
    if not 0 <= int(channel) < channels:
        raise IndexError(f"channel {channel} out of range: {model.name} layer {layer!r} has channels 0..{channels - 1}")
    return int(channel)


def conv_layers(model: WrappedModel) -> list[str]:
    """Friendly names of the layers worth showing by default (aliases that are not ``*_pre``),
    or, without aliases, the paths of every Conv2d."""
    names = [a for a in model.aliases if not a.endswith("_pre") and a != LOGITS]
    if names:
        return names
    return [p for p, m in model.net.named_modules() if isinstance(m, nn.Conv2d)]
