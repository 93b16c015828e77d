"""Gradients of any neuron, channel, class or objective with respect to the input image.

Methods: vanilla (Simonyan et al. 2013), guided backprop (Springenberg et al. 2015), deconvnet
(Zeiler & Fergus 2014), SmoothGrad (Smilkov et al. 2017) and gradient × input.

Why not captum's ``GuidedBackprop``/``Deconvolution`` directly: they override only ``nn.ReLU``
modules and need the whole-model forward. Our layer targets stop the forward early (a conv3_3
channel needs 40% of VGG16) and EfficientNet-Lite uses ``nn.ReLU6``. So the backward rule of the
activations is rerouted here, once: for the duration of the call each ``nn.ReLU``/``nn.ReLU6``/``nn.GELU``
module's forward is a custom autograd function (same values, the rule's backward), and forward
hooks record which modules ran; captum's ``Saliency``, ``InputXGradient`` and ``NoiseTunnel`` then compute
the gradients on top of that (guided SmoothGrad comes for free). Activations we cannot reroute
(functional ``F.relu``/``F.gelu`` calls, activation kinds without a rule such as SiLU) are detected while the
forward runs, listed in the result's ``skipped`` and warned about, instead of silently giving plain
gradients.

Backward rules (``g`` the incoming gradient, ``x`` the activation's input):

===========  ====================================  =================================
activation   guided backprop                       deconvnet
===========  ====================================  =================================
ReLU         ``g · [x > 0] · [g > 0]``             ``g · [g > 0]`` (forward mask ignored)
ReLU6        ``g · [0 < x < 6] · [g > 0]``         ``g · [g > 0]`` (forward mask ignored)
GELU         ``g · max(GELU′(x), 0) · [g > 0]``    ``g · [g > 0]`` (forward ignored)
===========  ====================================  =================================

For ReLU6 the guided rule keeps the plain gradient's mask (zero where the unit is saturated at 6,
as the true derivative is) and adds the guided sign filter; deconvnet ignores the forward pass
entirely, as Zeiler & Fergus's "reversed ReLU" does. GELU (vision transformers' MLPs) has no rule in either
paper; ours keeps what guided backprop means — only positive signals, only through units that let signal pass —
with GELU's own local slope in place of ReLU's 0/1 mask, clipped at 0 where GELU decreases (x ≲ −0.75): it is
exactly the ReLU rule in the limit where GELU becomes ReLU. Deconvnet ignores the forward as for ReLU.
"""

from __future__ import annotations

import contextlib
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from stochvis.inputs import check_images
from stochvis.layers import call_counts
from stochvis.models import WrappedModel
from stochvis.optvis.objectives import Target, as_objective

METHODS = ("vanilla", "guided", "deconvnet", "smoothgrad", "input_x_gradient")
RULES = ("guided", "deconvnet")
SMOOTHGRAD_BASES = ("vanilla", "guided", "deconvnet", "input_x_gradient")


# ------------------------------------------------------------------------------------------
# Rerouting the activations' backward pass
# ------------------------------------------------------------------------------------------

class _ReroutedActivation(torch.autograd.Function):
    """Forward: the activation (ReLU, or ReLU6 when ``upper`` is 6). Backward: the rule's gradient,
    with torch's own fused kernels so guided costs one extra elementwise pass and deconvnet none."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, upper: float | None, rule: str) -> torch.Tensor:
        out = torch.relu(x) if upper is None else x.clamp(0, upper)
        ctx.rule, ctx.upper = rule, upper
        if rule == "guided":
            ctx.save_for_backward(out)  # 0 < out < upper exactly where 0 < x < upper
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        positive = grad.clamp_min(0)
        if ctx.rule == "deconvnet":
            return positive, None, None
        (out,) = ctx.saved_tensors
        if ctx.upper is None:
            return torch.ops.aten.threshold_backward(positive, out, 0), None, None
        return torch.ops.aten.hardtanh_backward(positive, out, 0.0, ctx.upper), None, None


class _ReroutedGELU(torch.autograd.Function):
    """Forward: GELU. Backward: guided ``g⁺ · max(GELU′(x), 0)``, deconvnet ``g⁺`` (the module docstring's rule)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, approximate: str, rule: str) -> torch.Tensor:
        ctx.rule, ctx.approximate = rule, approximate
        if rule == "guided":
            ctx.save_for_backward(x)
        return F.gelu(x, approximate=approximate)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        positive = grad.clamp_min(0)
        if ctx.rule == "deconvnet":
            return positive, None, None
        (x,) = ctx.saved_tensors
        slope = torch.ops.aten.gelu_backward(torch.ones_like(x), x, approximate=ctx.approximate)
        return positive * slope.clamp_min(0), None, None


def _upper_bound(module: nn.Module) -> tuple[bool, float | None]:
    """(has a rule, upper clamp) for an activation module (GELU: a rule, no clamp)."""
    if isinstance(module, nn.GELU):
        return True, None
    if isinstance(module, nn.ReLU6):
        return True, 6.0
    if isinstance(module, nn.ReLU):
        return True, None
    return False, None


_OTHER_ACTIVATIONS = (nn.LeakyReLU, nn.PReLU, nn.ELU, nn.CELU, nn.SELU, nn.GELU, nn.SiLU, nn.Mish, nn.Hardswish,
                      nn.Hardtanh, nn.Softplus, nn.RReLU)
_WATCHED_FUNCTIONS = {
    F.relu: "relu", F.relu_: "relu_", torch.relu: "relu", torch.relu_: "relu_", torch.Tensor.relu: "relu",
    torch.Tensor.relu_: "relu_", F.relu6: "relu6", F.hardtanh: "hardtanh", F.hardtanh_: "hardtanh_",
    F.leaky_relu: "leaky_relu", F.elu: "elu", F.gelu: "gelu", F.silu: "silu", F.hardswish: "hardswish",
    F.mish: "mish", F.selu: "selu", F.celu: "celu", F.softplus: "softplus", F.prelu: "prelu",
}


@dataclass
class RerouteLog:
    """What a reroute did: module paths rerouted (in call order) and what it could not reroute."""

    rule: str
    rerouted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class _FunctionalSpy(TorchFunctionMode):
    """Sees every torch call in the forward; records activation functions called outside any
    activation module (``F.relu(x)`` inside a block's forward), which no module hook can reroute."""

    def __init__(self, state: _RerouteState) -> None:
        super().__init__()
        self.state = state

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = _WATCHED_FUNCTIONS.get(func)
        if name is not None and self.state.activation_depth == 0:
            where = self.state.stack[-1] if self.state.stack else "<top level>"
            self.state.functional[f"{where}: functional {name}"] += 1
        return func(*args, **(kwargs or {}))


@dataclass
class _RerouteState:
    stack: list[str] = field(default_factory=list)
    activation_depth: int = 0
    functional: Counter = field(default_factory=Counter)


@contextlib.contextmanager
def reroute_activations(model: WrappedModel | nn.Module, rule: str) -> Iterator[RerouteLog]:
    """Within the block, every ``nn.ReLU``/``nn.ReLU6``/``nn.GELU`` of ``model`` back-propagates by ``rule``
    ("guided" or "deconvnet"); forward values are unchanged. Hooks are removed on exit, also on an
    exception. The yielded :class:`RerouteLog` fills in as forwards run."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; valid: {', '.join(RULES)}")
    net = model.net if isinstance(model, WrappedModel) else model
    log = RerouteLog(rule)
    state = _RerouteState()
    seen_rerouted: set[str] = set()
    skipped_modules: dict[str, str] = {}
    handles = []
    swapped: list[tuple[nn.Module, object]] = []

    def push(path: str, is_activation: bool):
        def pre_hook(_module, _inputs):
            state.stack.append(path)
            if is_activation:
                state.activation_depth += 1
        return pre_hook

    def pop(path: str, has_rule: bool, is_activation: bool):
        def hook(module, _inputs, _output):
            if state.stack and state.stack[-1] == path:
                state.stack.pop()
            if not is_activation:
                return
            state.activation_depth -= 1
            if not has_rule:
                skipped_modules.setdefault(path, f"{path} ({type(module).__name__}): no {rule} rule for this activation")
            elif path not in seen_rerouted:
                seen_rerouted.add(path)
                log.rerouted.append(path)
        return hook

    def rerouted_forward(module: nn.Module, upper: float | None):
        def forward(x: torch.Tensor) -> torch.Tensor:
            if isinstance(module, nn.GELU):
                return _ReroutedGELU.apply(x, module.approximate, rule)
            return _ReroutedActivation.apply(x, upper, rule)
        return forward

    try:
        for path, module in net.named_modules():
            has_rule, upper = _upper_bound(module)
            is_activation = has_rule or isinstance(module, _OTHER_ACTIVATIONS)
            if has_rule:
                # The module's own forward is swapped (an instance attribute, deleted on exit) rather than
                # its output replaced from a hook: no wasted activation pass, and in-place modules are safe.
                swapped.append((module, module.__dict__.get("forward")))
                module.forward = rerouted_forward(module, upper)
            name = path or "<root>"
            handles.append(module.register_forward_pre_hook(push(name, is_activation)))
            handles.append(module.register_forward_hook(pop(name, has_rule, is_activation)))
        with _FunctionalSpy(state):
            yield log
    finally:
        for handle in handles:
            handle.remove()
        for module, previous in swapped:
            if previous is None:
                del module.forward
            else:
                module.forward = previous
        log.skipped[:] = list(skipped_modules.values()) + [
            f"{what} ×{count}" if count > 1 else what for what, count in state.functional.items()
        ]


# ------------------------------------------------------------------------------------------
# Gradients
# ------------------------------------------------------------------------------------------

@dataclass
class GradientResult:
    """``gradient``: (N, C, H, W), d score / d image (for ``input_x_gradient`` and its SmoothGrad,
    gradient × image). ``scores``: the target's value per image (None for SmoothGrad, whose forwards
    see noisy copies). ``rerouted``/``skipped``: activation modules whose backward was replaced, and
    activations left with plain gradients (empty for methods that reroute nothing)."""

    gradient: torch.Tensor
    method: str
    target: str
    scores: torch.Tensor | None
    rerouted: list[str]
    skipped: list[str]
    base: str | None = None  # the method SmoothGrad averaged

    def __repr__(self) -> str:
        base = f"({self.base})" if self.base else ""
        return (f"GradientResult({self.method}{base}, target={self.target!r}, gradient={tuple(self.gradient.shape)}, "
                f"rerouted={len(self.rerouted)} modules, skipped={self.skipped})")


def gradient(
    model: WrappedModel,
    images: torch.Tensor,
    target: Target,
    method: str = "vanilla",
    *,
    n: int = 16,
    sigma: float = 0.15,
    base: str = "vanilla",
    seed: int | None = None,
    max_batch: int = 32,
) -> GradientResult:
    """The gradient of ``target`` with respect to ``images`` ((N, 3, H, W) or (3, H, W) in [0, 1]).

    ``target``: whatever :func:`stochvis.optvis.objectives.as_objective` parses (a class, ``(layer,
    channel[, y, x])``, an objective), so a unit means the same here as in ``optimize``.

    ``method``: one of :data:`METHODS`. SmoothGrad averages ``base`` (vanilla, guided, deconvnet or
    input_x_gradient) over ``n`` noisy copies with noise std ``sigma`` in image units ([0, 1] range,
    so 0.15 is Smilkov's 15%), at most ``max_batch`` images per forward; ``seed`` fixes the noise.
    """
    from captum.attr import InputXGradient, NoiseTunnel, Saliency

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if method == "smoothgrad" and base not in SMOOTHGRAD_BASES:
        raise ValueError(f"SmoothGrad base must be one of {', '.join(SMOOTHGRAD_BASES)}; got {base!r}")
    objective = as_objective(target).bind(model)  # the targets optimize takes, parsed by the same owner
    dtype = model.mean.dtype if isinstance(getattr(model, "mean", None), torch.Tensor) else torch.float32
    # the one gate (uint8 → /255, range, NaN, channels), before the images start requiring grad
    batch = check_images(model, images).to(dtype).detach().clone().requires_grad_(True)
    if batch.shape[0] == 0:
        raise ValueError(f"{method}: the batch is empty (images of shape {tuple(batch.shape)}): a gradient needs "
                         "at least one image, (N ≥ 1, C, H, W) or (C, H, W)")
    call_counts(model)  # the reused-module probe runs here, outside the rerouted activations' spy
    seen: dict[str, torch.Tensor] = {}

    def forward(x: torch.Tensor) -> torch.Tensor:
        scores = objective.scores(model, x)
        seen["scores"] = scores.detach()
        return scores

    inner_method = base if method == "smoothgrad" else method
    rule = inner_method if inner_method in RULES else None
    reroute = reroute_activations(model, rule) if rule else contextlib.nullcontext(RerouteLog("none"))
    with reroute as log, torch.enable_grad():
        explainer = InputXGradient(forward) if inner_method == "input_x_gradient" else Saliency(forward)
        options = {} if inner_method == "input_x_gradient" else {"abs": False}
        if method == "smoothgrad":
            per_pass = max(1, max_batch // batch.shape[0])
            # a seed fixes the noise without disturbing the caller's random stream; no seed draws from it
            fork = torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else [],
                                         enabled=seed is not None)
            with fork:
                if seed is not None:
                    torch.manual_seed(seed)
                result = NoiseTunnel(explainer).attribute(batch, nt_type="smoothgrad", nt_samples=n,
                                                          nt_samples_batch_size=min(n, per_pass), stdevs=sigma,
                                                          **options)
        else:
            result = explainer.attribute(batch, **options)
    if log.skipped:
        warnings.warn(f"{inner_method}: {len(log.skipped)} activation(s) could not be rerouted and back-propagate "
                      f"plain gradients: {'; '.join(log.skipped)}", stacklevel=2)
    return GradientResult(
        gradient=result.detach(), method=method, target=objective.name,
        scores=None if method == "smoothgrad" else seen.get("scores"),
        rerouted=list(log.rerouted), skipped=list(log.skipped), base=base if method == "smoothgrad" else None,
    )


def vanilla(model: WrappedModel, images: torch.Tensor, target: Target) -> GradientResult:
    """Simonyan et al. 2013: the plain gradient."""
    return gradient(model, images, target, "vanilla")


def guided_backprop(model: WrappedModel, images: torch.Tensor, target: Target) -> GradientResult:
    """Springenberg et al. 2015: only positive gradients through units that were active."""
    return gradient(model, images, target, "guided")


def deconvnet(model: WrappedModel, images: torch.Tensor, target: Target) -> GradientResult:
    """Zeiler & Fergus 2014: only positive gradients, whatever the forward pass did."""
    return gradient(model, images, target, "deconvnet")


def smoothgrad(model: WrappedModel, images: torch.Tensor, target: Target, *, n: int = 16, sigma: float = 0.15,
               base: str = "vanilla", seed: int | None = None) -> GradientResult:
    """Smilkov et al. 2017: the mean of ``base`` gradients over noisy copies of each image."""
    return gradient(model, images, target, "smoothgrad", n=n, sigma=sigma, base=base, seed=seed)


def input_x_gradient(model: WrappedModel, images: torch.Tensor, target: Target) -> GradientResult:
    """Gradient × input (Shrikumar et al. 2016)."""
    return gradient(model, images, target, "input_x_gradient")
