"""Gradients: vanilla = finite differences, guided/deconvnet = hand-computed backward rules,
hooks gone afterwards, clear errors for bad targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from stochvis import attribution as G
from stochvis.models import wrap_model
from stochvis.optvis import objectives as O

# ------------------------------------------------------------------------------------------
# A tiny fully connected net whose backward we can write out by hand
# ------------------------------------------------------------------------------------------

W1 = torch.tensor([[1.0, -2.0, 0.5, 1.0], [-1.0, 1.0, 2.0, -0.5], [0.5, 0.5, -1.0, 2.0], [2.0, -1.0, 1.0, 0.0]],
                  dtype=torch.float64)
W2 = torch.tensor([[1.0, -1.0, 2.0, 0.5], [-2.0, 1.0, 1.0, 1.0], [0.5, 2.0, -1.0, -1.0]], dtype=torch.float64)
W3 = torch.tensor([[1.5, -2.0, 1.0]], dtype=torch.float64)


class HandNet(nn.Module):
    """flatten → W1 → act → W2 → act → W3 (score). ``act`` is ReLU, ReLU6 or ``F.relu`` (functional)."""

    def __init__(self, act: str = "relu", scale: float = 1.0) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = (nn.Linear(4, 4, bias=False), nn.Linear(4, 3, bias=False),
                                        nn.Linear(3, 1, bias=False))
        with torch.no_grad():
            self.fc1.weight.copy_(W1 * scale)
            self.fc2.weight.copy_(W2)
            self.fc3.weight.copy_(W3)
        self.functional = act == "functional"
        make = {"relu": nn.ReLU, "relu6": nn.ReLU6, "functional": nn.Identity}[act]
        self.act1, self.act2 = make(), make()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act1(self.fc1(x.flatten(1)))
        if self.functional:
            h = F.relu(h)
        h = self.act2(self.fc2(h))
        return self.fc3(h)


def hand_model(act: str = "relu", scale: float = 1.0):
    model = wrap_model(HandNet(act, scale).double(), mean=(0.0,), std=(1.0,), input_size=(2, 2), classes=["score"],
                       name="hand", aliases={"h1": "act1", "h2": "act2"}, device="cpu", in_channels=1)
    return model.double()


def hand_backward(x: torch.Tensor, rule: str, upper: float | None = None, scale: float = 1.0) -> torch.Tensor:
    """The backward pass of HandNet written out: g ← Wᵀ (g · mask) at each activation."""
    z1 = (W1 * scale) @ x.flatten()
    a1 = z1.clamp(0, upper) if upper else z1.clamp_min(0)
    z2 = W2 @ a1

    def through(g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        active = (z > 0) & (z < upper) if upper else z > 0
        if rule == "vanilla":
            return g * active
        if rule == "guided":
            return g * active * (g > 0)
        return g * (g > 0)  # deconvnet: the forward mask is ignored

    g2 = through(W3[0], z2)
    g1 = through(W2.T @ g2, z1)
    return ((W1 * scale).T @ g1).reshape(1, 2, 2)


X = torch.tensor([[[[0.9, 0.2], [0.4, 0.7]]]], dtype=torch.float64)


def test_hand_net_has_the_cases_that_tell_rules_apart():
    """The input is chosen so that every rule gives a different answer (else the tests below prove nothing)."""
    results = [hand_backward(X[0], rule) for rule in ("vanilla", "guided", "deconvnet")]
    assert not torch.allclose(results[0], results[1])
    assert not torch.allclose(results[1], results[2])
    assert not torch.allclose(results[0], results[2])


@pytest.mark.parametrize("method", ["vanilla", "guided", "deconvnet"])
def test_rules_match_hand_computation(method):
    result = G.gradient(hand_model(), X, 0, method)
    torch.testing.assert_close(result.gradient[0], hand_backward(X[0], method))
    assert result.rerouted == ([] if method == "vanilla" else ["act1", "act2"])
    assert result.skipped == []


def test_inplace_relu_modules_are_rerouted_too():
    model = hand_model()
    model.net.act1.inplace = model.net.act2.inplace = True
    for method in ("guided", "deconvnet"):
        torch.testing.assert_close(G.gradient(model, X, 0, method).gradient[0], hand_backward(X[0], method))
    assert model.net.act1.inplace and model.net.act2.inplace


@pytest.mark.parametrize("method", ["vanilla", "guided", "deconvnet"])
def test_relu6_rules_match_hand_computation(method):
    """Scaled up so that some first-layer units sit above 6 (saturated): guided and vanilla block them."""
    scale = 8.0
    z1 = (W1 * scale) @ X.flatten()
    assert (z1 > 6).any() and (z1 < 0).any()
    result = G.gradient(hand_model("relu6", scale), X, 0, method)
    torch.testing.assert_close(result.gradient[0], hand_backward(X[0], method, upper=6.0, scale=scale))


def test_guided_gradient_into_every_relu_is_nonnegative(tiny_model, tiny_images):
    """Below every ReLU (each conv of the tiny net feeds one) the guided gradient is ≥ 0, zero where
    the unit was off, and somewhere positive; the plain gradient there has negative entries."""
    convs = [m for m in tiny_model.net.modules() if isinstance(m, nn.Conv2d)]

    def below_relus(method):
        outputs, grads = [], []
        handles = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach())) for m in convs]
        handles += [m.register_full_backward_hook(lambda _m, _gi, go: grads.insert(0, go[0])) for m in convs]
        try:
            G.gradient(tiny_model, tiny_images, 2, method)
        finally:
            for handle in handles:
                handle.remove()
        return outputs, grads

    outputs, grads = below_relus("guided")
    assert len(grads) == 3
    for pre_activation, grad in zip(outputs, grads):
        assert (grad >= 0).all() and (grad > 0).any()
        assert (grad[pre_activation <= 0] == 0).all()
    _, plain = below_relus("vanilla")
    assert all((grad < 0).any() for grad in plain)


def test_vanilla_matches_finite_differences(tiny_model, tiny_images):
    model = tiny_model.double()
    images = tiny_images[:2].double()
    for target in (3, ("conv2", 5, 6, 7), ("conv3", 1)):
        analytic = G.gradient(model, images, target, "vanilla").gradient
        score = O.as_objective(target).bind(model)
        generator = torch.Generator().manual_seed(0)
        for _ in range(6):
            n, c, y, x = (int(torch.randint(s, (1,), generator=generator)) for s in (2, 3, 16, 16))
            step = torch.zeros_like(images)
            step[n, c, y, x] = 1e-6
            with torch.no_grad():
                numeric = (score.scores(model, images + step)[n] - score.scores(model, images - step)[n]) / 2e-6
            assert abs(float(numeric) - float(analytic[n, c, y, x])) < 1e-6 * max(1.0, abs(float(numeric)))


def test_deconvnet_equals_guided_where_every_unit_is_active():
    """Deconvnet differs from guided only by ignoring the forward mask: with every unit on, they agree."""
    model = hand_model()
    with torch.no_grad():
        model.net.fc1.weight.abs_()
        model.net.fc2.weight.abs_()
    x = torch.rand(3, 1, 2, 2, dtype=torch.float64) * 0.9 + 0.1  # in [0.1, 1]: images are in [0, 1]
    guided = G.gradient(model, x, 0, "guided").gradient
    deconv = G.gradient(model, x, 0, "deconvnet").gradient
    torch.testing.assert_close(guided, deconv)


@pytest.mark.filterwarnings("ignore:Setting backward hooks")
def test_matches_captum_on_a_relu_model(tiny_model, tiny_images):
    """Where captum's own module overrides apply (nn.ReLU, full forward), we give the same answer."""
    from captum.attr import Deconvolution, GuidedBackprop

    ours = G.gradient(tiny_model, tiny_images, 2, "guided").gradient
    theirs = GuidedBackprop(tiny_model).attribute(tiny_images.clone().requires_grad_(), target=2)
    torch.testing.assert_close(ours, theirs)
    ours = G.gradient(tiny_model, tiny_images, 2, "deconvnet").gradient
    theirs = Deconvolution(tiny_model).attribute(tiny_images.clone().requires_grad_(), target=2)
    torch.testing.assert_close(ours, theirs)


def _hooks(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules())


def _outputs_and_gradients(model, images):
    x = images.clone().requires_grad_(True)
    out = model(x)
    (grad,) = torch.autograd.grad(out[:, 1].sum(), x)
    return out.detach(), grad


@pytest.mark.parametrize("method", ["guided", "deconvnet", "smoothgrad"])
def test_hooks_removed_after_call_and_after_exception(tiny_model, tiny_images, method):
    before = _outputs_and_gradients(tiny_model, tiny_images)
    G.gradient(tiny_model, tiny_images, ("conv3", 2), method, base="guided", n=2)

    def failing(acts):
        raise RuntimeError("boom inside the objective")

    failing.layers = ["conv2"]
    with pytest.raises(RuntimeError, match="boom"):
        G.gradient(tiny_model, tiny_images, failing, method, base="guided", n=2)
    with pytest.raises(IndexError):
        G.gradient(tiny_model, tiny_images, ("conv2", 99), method, base="guided", n=2)
    assert _hooks(tiny_model) == 0
    assert not any("forward" in vars(m) for m in tiny_model.modules())  # swapped activation forwards restored
    assert torch._C._len_torch_function_stack() == 0
    after = _outputs_and_gradients(tiny_model, tiny_images)
    torch.testing.assert_close(before[0], after[0], rtol=0, atol=0)
    torch.testing.assert_close(before[1], after[1], rtol=0, atol=0)
    assert not any(m.inplace for m in tiny_model.net.modules() if isinstance(m, nn.ReLU))  # wrapper's choice kept


def test_bad_targets_give_clear_errors(tiny_model, tiny_images):
    with pytest.raises(KeyError, match="no layer 'conv9'.*conv"):
        G.gradient(tiny_model, tiny_images, ("conv9", 0))
    with pytest.raises(IndexError, match=r"channel 8 out of range.*channels 0\.\.7"):
        G.gradient(tiny_model, tiny_images, ("conv2", 8))
    with pytest.raises(IndexError, match=r"position .* out of range.*y 0\.\.7"):
        G.gradient(tiny_model, tiny_images, ("conv3", 0, 8, 0))
    with pytest.raises(IndexError, match=r"class 5 out of range.*0\.\.4"):
        G.gradient(tiny_model, tiny_images, 5)
    with pytest.raises(KeyError, match="no class 'zebra'"):
        G.gradient(tiny_model, tiny_images, "zebra")
    with pytest.raises(ValueError, match="unknown method 'gradcam'.*vanilla"):
        G.gradient(tiny_model, tiny_images, 0, "gradcam")
    with pytest.raises(TypeError, match="layers"):
        G.gradient(tiny_model, tiny_images, lambda acts: acts)
    headless = wrap_model(tiny_model.net, classes=None, device="cpu", aliases=dict(tiny_model.aliases))
    with pytest.raises(ValueError, match="no classifier head"):
        G.gradient(headless, tiny_images, 0)


def test_layer_target_stops_the_forward_early(tiny_model, tiny_images):
    calls = []
    handle = tiny_model.net.classifier.register_forward_hook(lambda *args: calls.append(1))
    try:
        result = G.gradient(tiny_model, tiny_images, ("conv2", 1), "guided")
    finally:
        handle.remove()
    assert calls == []
    assert result.rerouted == ["features.1", "features.3"]  # only the ReLUs the truncated forward ran
    assert result.gradient.shape == tiny_images.shape


def test_objective_callable_equals_tuple_target(tiny_model, tiny_images):
    def objective(acts):
        return acts["conv2"][:, 3].mean((1, 2))

    objective.layers = ["conv2"]
    a = G.gradient(tiny_model, tiny_images, objective, "guided")
    b = G.gradient(tiny_model, tiny_images, ("conv2", 3), "guided")
    torch.testing.assert_close(a.gradient, b.gradient)
    torch.testing.assert_close(a.scores, b.scores)


def test_input_x_gradient_and_smoothgrad(tiny_model, tiny_images):
    plain = G.gradient(tiny_model, tiny_images, 1, "vanilla").gradient
    torch.testing.assert_close(G.gradient(tiny_model, tiny_images, 1, "input_x_gradient").gradient, plain * tiny_images)
    # with vanishing noise SmoothGrad is the plain gradient; with noise it is reproducible by seed and different
    nearly = G.gradient(tiny_model, tiny_images, 1, "smoothgrad", n=3, sigma=1e-9, seed=0).gradient
    torch.testing.assert_close(nearly, plain, rtol=1e-4, atol=1e-6)
    first = G.smoothgrad(tiny_model, tiny_images, 1, n=4, sigma=0.2, seed=3)
    again = G.smoothgrad(tiny_model, tiny_images, 1, n=4, sigma=0.2, seed=3)
    torch.testing.assert_close(first.gradient, again.gradient)
    assert not torch.allclose(first.gradient, plain)
    unseeded = [G.smoothgrad(tiny_model, tiny_images, 1, n=2, sigma=0.2).gradient for _ in range(2)]
    assert not torch.allclose(*unseeded)  # without a seed each call draws new noise
    guided = G.smoothgrad(tiny_model, tiny_images, 1, n=2, sigma=0.1, base="guided", seed=0)
    assert guided.base == "guided" and guided.rerouted and guided.scores is None


def test_user_module_with_functional_relu_and_silu_is_reported():
    class UserNet(nn.Module):  # SiLU has no rule (GELU has one now: test_guided_backprop_through_gelu_is_the_stated_rule)
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.act1 = nn.Conv2d(3, 4, 3), nn.ReLU6()
            self.conv2, self.act2 = nn.Conv2d(4, 4, 3), nn.SiLU()
            self.conv3 = nn.Conv2d(4, 2, 3)

        def forward(self, x):
            return F.relu(self.conv3(self.act2(self.conv2(self.act1(self.conv1(x)))))).mean((2, 3))

    torch.manual_seed(0)
    model = wrap_model(UserNet(), classes=["a", "b"], input_size=(10, 10), device="cpu")
    with pytest.warns(UserWarning, match="could not be rerouted"):
        result = G.gradient(model, torch.rand(2, 3, 10, 10), "b", "guided")
    assert result.rerouted == ["act1"]
    assert any("act2 (SiLU)" in s for s in result.skipped)
    assert any("functional relu" in s for s in result.skipped)
    assert np.isfinite(result.gradient.numpy()).all()


def test_functional_relu_between_modules_is_detected_not_rerouted():
    model = hand_model("functional")
    with pytest.warns(UserWarning, match="functional relu"):
        result = G.gradient(model, X, 0, "guided")
    assert result.rerouted == []
    # nothing rerouted: the "guided" answer is the plain gradient, and the result says so
    torch.testing.assert_close(result.gradient, G.gradient(model, X, 0, "vanilla").gradient)


def test_gradient_panel_rerenders_and_follows_the_layer(tiny_model):
    import matplotlib

    matplotlib.use("Agg")
    from stochvis.viz import widgets

    images = {"a": torch.rand(3, 16, 16), "b": torch.rand(3, 16, 16)}
    panel = widgets.gradient_panel(tiny_model, images)
    panel.render()
    assert panel.renders == 1 and bytes(panel.image.value).startswith(b"\x89PNG")  # drew a figure
    panel.controls["method"].value = "guided"
    assert panel.renders == 2
    panel.controls["layer"].value = "conv3"
    assert panel.controls["channel"].max == 15
    panel.controls["layer"].value = "logits"
    assert panel.controls["channel"].max == 4  # the channel of the logits is the class


def test_display_helpers_scale_and_clip():
    from stochvis.viz import display

    grad = torch.zeros(3, 4, 4)
    grad[0, 0, 0] = 100.0  # one outlier
    grad[1, 1:, 1:] = -1.0
    absolute = display.absolute_map(grad, percentile=90)
    assert absolute.shape == (4, 4) and absolute.max() == 1 and absolute[2, 2] == 1  # outlier clipped, not dominating
    signed = display.signed_map(grad, percentile=90)
    assert signed.min() == -1 and signed[0, 0] == 1
    image = display.gradient_image(grad)
    assert image.shape == (3, 4, 4) and float(image[2, 0, 0]) == 0.5  # zero gradient is grey
    blended = display.overlay(torch.zeros(3, 4, 4), absolute, alpha=1.0)
    assert blended.shape == (4, 4, 3) and blended.max() <= 1
    assert display.clip_percentile(grad, 90).abs().max() < 100


def test_stochvis_objectives_are_targets(tiny_model, tiny_images):
    from stochvis.optvis import objectives

    a = G.gradient(tiny_model, tiny_images, objectives.channel("conv2", 3), "deconvnet")
    b = G.gradient(tiny_model, tiny_images, ("conv2", 3), "deconvnet")
    torch.testing.assert_close(a.gradient, b.gradient)
    assert a.target == "conv2:3"
    with pytest.raises(IndexError, match=r"channels 0\.\.7"):
        G.gradient(tiny_model, tiny_images, objectives.channel("conv2", 8))


def test_saliency_styles_name_what_is_drawn(tiny_images):
    import matplotlib.pyplot as plt

    from stochvis.viz import display as show

    grads = {"a": tiny_images[:2] - 0.5, "b": 0.5 - tiny_images[:2]}
    figure = show.saliency_grid(tiny_images[:2], grads, style=["signed", "overlay"])
    assert len(figure.axes) == 6
    plt.close(figure)
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="absolute, signed, rgb, overlay"):
        show.show_saliency(ax, grads["a"][0], style="heat")
    with pytest.raises(ValueError, match="1 styles for 2 columns"):
        show.saliency_grid(tiny_images[:2], grads, style=["rgb"])
    plt.close("all")


def test_guided_backprop_through_gelu_is_the_stated_rule():
    """Guided: g⁺ · max(GELU′(x), 0); deconvnet: g⁺ — checked on one GELU between two fixed linear maps."""

    class GeluNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.act = nn.GELU()

        def forward(self, x):
            return (self.act(x.flatten(1) * 4 - 2) * torch.tensor([1.0, -1.0, 1.0, -1.0])).sum(1, keepdim=True)

    model = wrap_model(GeluNet(), mean=(0.0,), std=(1.0,), input_size=(2, 2), classes=["score"], device="cpu",
                       in_channels=1)
    x = torch.tensor([[[[0.1, 0.9], [0.6, 0.3]]]])
    pre = (x.flatten(1) * 4 - 2).requires_grad_(True)
    slope = torch.autograd.grad(F.gelu(pre).sum(), pre)[0]
    upstream = torch.tensor([1.0, -1.0, 1.0, -1.0])
    guided = G.gradient(model, x, 0, "guided")
    assert guided.rerouted == ["act"] and not guided.skipped
    assert torch.allclose(guided.gradient.flatten(), 4 * upstream.clamp_min(0) * slope.clamp_min(0).flatten(), atol=1e-6)
    deconv = G.gradient(model, x, 0, "deconvnet")
    assert torch.allclose(deconv.gradient.flatten(), 4 * upstream.clamp_min(0), atol=1e-6)
    vanilla = G.gradient(model, x, 0, "vanilla")
    assert torch.allclose(vanilla.gradient.flatten(), 4 * upstream * slope.flatten(), atol=1e-6)
    assert float(slope.min()) < 0  # the input at 0.1 (pre-activation −1.6) sits where GELU decreases: clipped


def test_an_empty_batch_gets_a_sentence(tiny_model):
    for method in ("guided", "vanilla", "smoothgrad"):
        with pytest.raises(ValueError, match="the batch is empty.*at least one image"):
            G.gradient(tiny_model, torch.empty(0, 3, 16, 16), 0, method)
