"""ipywidgets panels for tuning by hand: each panel re-renders its figure in place.

Panels only wire controls to functions of the other modules; they hold no algorithm. Each panel
function returns the panel widget and exposes ``panel.render()`` so a notebook run headless
(papermill) can draw once with the defaults.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from stochvis import display as show
from stochvis.layers import capture, conv_layers, layer_shape
from stochvis.models import WrappedModel


class Panel(W.VBox):
    """Controls above the picture; ``render()`` redraws from the controls' values.

    ``draw()`` returns a matplotlib Figure, shown as PNG bytes in an ``ipywidgets.Image``: that
    re-renders in place without flicker, and it keeps large images out of an ``Output`` widget's
    captured outputs, which nbclient (papermill runs) handles badly: a megabyte-sized figure
    displayed inside an Output widget hung headless runs here. Text printed while drawing goes to
    a small Output area below.
    """

    def __init__(self, controls: Sequence[W.Widget], draw: Callable[[], plt.Figure | None], *, auto: bool = True) -> None:
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.output = W.Output()
        self._draw = draw
        self.renders = 0
        rows = [W.HBox(list(controls[:3]))] + ([W.HBox(list(controls[3:]))] if len(controls) > 3 else [])
        super().__init__([*rows, self.image, self.output])
        if auto:
            for control in controls:
                if hasattr(control, "value") and not isinstance(control, W.Button):
                    control.observe(lambda _change: self.render(), names="value")

    def render(self) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            figure = self._draw()
        if figure is not None:
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
            plt.close(figure)
            self.image.value = buffer.getvalue()
        self.renders += 1


def activation_panel(model: WrappedModel, images: dict[str, torch.Tensor], *, layers: Sequence[str] | None = None) -> Panel:
    """Layer dropdown, channel slider and image choice → the channel grid, the input and a zoom.

    ``images`` maps a label to a (3, H, W) tensor in [0, 1].
    """
    layer_names = list(layers or conv_layers(model))
    layer = W.Dropdown(options=layer_names, value=layer_names[0], description="layer")
    image = W.Dropdown(options=list(images), value=next(iter(images)), description="image")
    channel = W.IntSlider(value=0, min=0, max=layer_shape(model, layer_names[0])[0] - 1, description="channel")

    def on_layer(change) -> None:
        channel.max = layer_shape(model, change["new"])[0] - 1

    layer.observe(on_layer, names="value")

    def draw() -> None:
        x = images[image.value].unsqueeze(0).to(model.device)
        with torch.no_grad():
            act = capture(model, x, [layer.value])[layer.value][0]
        return activation_figure(x[0], act, channel.value, title=f"{model.name} {layer.value}")

    panel = Panel([layer, channel, image], draw)
    panel.controls = {"layer": layer, "channel": channel, "image": image}
    return panel


def activation_figure(image: torch.Tensor, activation: torch.Tensor, channel: int, *, title: str = "") -> plt.Figure:
    """The source documents' activation figure: the grid of every channel, the input, a zoom."""
    figure = plt.figure(figsize=(12, 7))
    grid_ax = figure.add_axes([0.0, 0.0, 0.6, 1.0])
    show.channel_grid(activation, highlight=channel, ax=grid_ax)
    grid_ax.set_title(f"{title}: {activation.shape[0]} channels", fontsize=11)
    input_ax = figure.add_axes([0.63, 0.52, 0.36, 0.44])
    input_ax.imshow(show.to_numpy_image(image))
    input_ax.set_title("input", fontsize=10)
    input_ax.set_axis_off()
    zoom_ax = figure.add_axes([0.63, 0.02, 0.36, 0.44])
    zoom_ax.imshow(activation[channel].detach().float().cpu().numpy(), cmap="viridis")
    zoom_ax.set_title(f"channel {channel} (zoom)", fontsize=10)
    zoom_ax.set_axis_off()
    return figure


def gradient_panel(
    models: WrappedModel | dict[str, WrappedModel],
    images: dict[str, torch.Tensor],
    *,
    layers: dict[str, Sequence[str]] | None = None,
    methods: Sequence[str] = ("vanilla", "guided", "deconvnet", "smoothgrad", "input_x_gradient"),
    smoothgrad_samples: int = 8,
) -> Panel:
    """Model, layer, channel, method and image selectors → the image, its gradient and an overlay.

    ``images`` maps a label to a (3, H, W) tensor in [0, 1]. The layer list of each model defaults to
    its conv layers, plus ``logits`` (then the channel is the class) when it has a classifier.
    """
    from stochvis import gradients

    models = models if isinstance(models, dict) else {models.name: models}

    def layer_options(name: str) -> list[str]:
        if layers and name in layers:
            return list(layers[name])
        model = models[name]
        return list(conv_layers(model)) + (["logits"] if model.classes else [])

    def channels(model_name: str, layer_name: str) -> int:
        size = tuple(next(iter(images.values())).shape[-2:])
        return layer_shape(models[model_name], layer_name, size)[0]

    first = next(iter(models))
    model_choice = W.Dropdown(options=list(models), value=first, description="model")
    layer = W.Dropdown(options=layer_options(first), value=layer_options(first)[-1], description="layer")
    channel = W.IntSlider(value=0, min=0, max=channels(first, layer.value) - 1, description="channel")
    method = W.Dropdown(options=list(methods), value=methods[0], description="method")
    image = W.Dropdown(options=list(images), value=next(iter(images)), description="image")
    kind = W.Dropdown(options=list(show.SALIENCY_KINDS), value="rgb", description="show")

    def on_model(change) -> None:
        options = layer_options(change["new"])
        layer.options = options
        layer.value = options[-1]

    def on_layer(change) -> None:
        if change["new"] is not None:
            channel.max = channels(model_choice.value, change["new"]) - 1

    model_choice.observe(on_model, names="value")
    layer.observe(on_layer, names="value")

    def draw() -> plt.Figure:
        model = models[model_choice.value]
        x = images[image.value].unsqueeze(0).to(model.device)
        result = gradients.gradient(model, x, (layer.value, channel.value), method.value, n=smoothgrad_samples, seed=0)
        return gradient_figure(x[0], result, kind=kind.value, title=f"{model.name} {result.target}")

    panel = Panel([model_choice, layer, channel, method, image, kind], draw)
    panel.controls = {"model": model_choice, "layer": layer, "channel": channel, "method": method,
                      "image": image, "kind": kind}
    return panel


def gradient_figure(image: torch.Tensor, result, *, kind: str = "rgb", title: str = "") -> plt.Figure:
    """The input, the gradient drawn as ``kind``, and the absolute map over the image."""
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    axes[0].imshow(show.to_numpy_image(image))
    axes[0].set_title("input", fontsize=10)
    axes[0].set_axis_off()
    show.show_saliency(axes[1], result.gradient[0], kind=kind, image=image)
    axes[1].set_title(f"{result.method} ({kind})", fontsize=10)
    show.show_saliency(axes[2], result.gradient[0], kind="overlay", image=image)
    axes[2].set_title("|gradient| over the input", fontsize=10)
    note = f"  · {len(result.rerouted)} activations rerouted" if result.rerouted else ""
    note += f", {len(result.skipped)} not reroutable" if result.skipped else ""
    figure.suptitle(f"{title}{note}", fontsize=11)
    figure.tight_layout()
    return figure


# ------------------------------------------------------------------------------------------
# Activation maximisation
# ------------------------------------------------------------------------------------------

def maximization_panel(
    models: WrappedModel | dict[str, WrappedModel],
    *,
    size: int = 128,
    steps: int = 64,
    lr: float = 0.01,
    target: str | None = None,
    layer: str | None = None,
    channel: int = 0,
) -> Panel:
    """Tune activation maximisation by hand: model / layer / channel / class selectors, a slider for
    every regulariser strength (0 = off), steps, learning rate, octaves, and a Run button. The
    image and the objective curve re-render in place. ``panel.result`` holds the last
    :class:`~stochvis.optimize.OptimizationResult`, ``panel.figure`` the last figure.
    """
    from stochvis import objectives as O
    from stochvis import presets
    from stochvis.optimize import optimize

    models = models if isinstance(models, dict) else {models.name: models}
    first = next(iter(models.values()))
    style = {"description_width": "110px"}
    model_box = W.Dropdown(options=list(models), description="model", style=style)
    kind = W.Dropdown(options=["class logit", "class softmax", "channel"], description="objective", style=style)
    layer_box = W.Dropdown(description="layer", style=style)
    channel_box = W.IntSlider(value=channel, min=0, max=1, description="channel", style=style)
    class_box = W.Combobox(description="class", placeholder="name or index", ensure_option=False, style=style)

    def on_model(_change=None) -> None:
        model = models[model_box.value]
        names = conv_layers(model)
        layer_box.options = names
        layer_box.value = layer if layer in names else names[len(names) // 2]
        class_box.options = tuple(model.classes or ())
        class_box.disabled = model.classes is None
        if model.classes is None:
            kind.value = "channel"
        elif not class_box.value:
            class_box.value = target or model.classes[0]

    def on_layer(_change=None) -> None:
        if layer_box.value:
            channel_box.max = layer_shape(models[model_box.value], layer_box.value)[0] - 1

    model_box.observe(on_model, names="value")
    layer_box.observe(on_layer, names="value")
    on_model()
    on_layer()
    if first.classes is None:
        kind.value = "channel"

    def slider(cls, description, value, lo, hi, stepsize):
        return cls(value=value, min=lo, max=hi, step=stepsize, description=description, style=style,
                   continuous_update=False)

    run_controls = {
        "steps": slider(W.IntSlider, "steps", steps, 1, 512, 1),
        "lr": W.FloatLogSlider(value=lr, base=10, min=-4, max=1, step=0.1, description="learning rate", style=style),
        "optimizer": W.Dropdown(options=["sgd", "adam"], value="sgd", description="optimizer", style=style),
        "octaves": slider(W.IntSlider, "octaves", 1, 1, 5, 1),
        "size": slider(W.IntSlider, "size", size, 32, 256, 16),
        "normalize": W.Checkbox(value=True, description="normalise gradient"),
    }
    strengths = {
        "decay": slider(W.FloatSlider, "L2 decay θ", 0.02, 0.0, 0.3, 0.001),
        "blur_kernel": slider(W.IntSlider, "grad blur max k", 9, 1, 21, 2),
        "jitter": slider(W.IntSlider, "jitter px", 8, 0, 32, 1),
        "scale": slider(W.FloatSlider, "scale ±", 0.0, 0.0, 0.3, 0.01),
        "rotate": slider(W.FloatSlider, "rotate ±°", 0.0, 0.0, 30.0, 1.0),
        "norm_pct": slider(W.FloatSlider, "small-norm %", 30.0, 0.0, 95.0, 1.0),
        "contribution_pct": slider(W.FloatSlider, "small-contrib %", 0.0, 0.0, 95.0, 1.0),
        "blur_sigma": slider(W.FloatSlider, "image blur σ", 0.0, 0.0, 2.0, 0.1),
        "blur_every": slider(W.IntSlider, "blur every", 4, 1, 16, 1),
        "tv": slider(W.FloatSlider, "TV weight", 0.0, 0.0, 0.05, 0.0005),
        "l2": slider(W.FloatSlider, "L2 penalty λ", 0.0, 0.0, 0.2, 0.005),
        "saturation": slider(W.FloatSlider, "invert above p", 0.99, 0.5, 1.0, 0.005),
    }
    run_button = W.Button(description="Run", button_style="primary", icon="play")
    status = W.Label(value="")
    panel: Panel

    def objective_from_controls():
        if kind.value == "channel":
            return O.channel(layer_box.value, channel_box.value)
        wanted = class_box.value.strip()
        wanted = int(wanted) if wanted.isdigit() else wanted
        return O.class_logit(wanted) if kind.value == "class logit" else O.class_probability(wanted)

    def draw() -> None:
        model = models[model_box.value]
        objective = objective_from_controls()
        values = {name: control.value for name, control in strengths.items()}
        is_class = kind.value != "channel"
        values["saturation"] = values["saturation"] if is_class and values["saturation"] < 1.0 else None
        regs = presets.regularizers_from(normalize=run_controls["normalize"].value, **values)
        octaves = run_controls["octaves"].value
        status.value = "running…"
        result = optimize(model, objective, regularizers=regs, steps=run_controls["steps"].value,
                          lr=run_controls["lr"].value, optimizer=run_controls["optimizer"].value,
                          size=run_controls["size"].value, octaves=octaves if octaves > 1 else None, progress=False)
        status.value = f"{result.seconds_per_step * 1e3:.0f} ms/step"
        figure = maximization_figure(result, title=f"{model.name} · {result.objective}")
        panel.result, panel.figure = result, figure
        display(figure)
        plt.close(figure)

    columns = [
        W.VBox([model_box, kind, layer_box, channel_box, class_box, run_button, status]),
        W.VBox(list(run_controls.values()) + list(strengths.values())[:4]),
        W.VBox(list(strengths.values())[4:]),
    ]
    panel = Panel(columns, draw, auto=False)
    panel.result, panel.figure = None, None
    panel.controls = {"model": model_box, "objective": kind, "layer": layer_box, "channel": channel_box,
                      "class": class_box, "run": run_button, **run_controls, **strengths}
    run_button.on_click(lambda _button: panel.render())
    return panel


def maximization_figure(result, *, title: str = "") -> plt.Figure:
    """The optimised image(s) beside the objective curve (one line per image)."""
    count = result.images.shape[0]
    figure, axes = plt.subplots(1, count + 1, figsize=(3.2 * (count + 1), 3.2),
                                gridspec_kw={"width_ratios": [1] * count + [1.3]})
    for index in range(count):
        axes[index].imshow(show.to_numpy_image(result.images[index]))
        axes[index].set_axis_off()
    curve = axes[-1]
    curve.plot(result.history.numpy())
    curve.set_xlabel("step")
    curve.set_ylabel("objective")
    curve.grid(alpha=0.3)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure
