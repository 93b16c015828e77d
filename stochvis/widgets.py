"""ipywidgets panels for tuning by hand: each panel re-renders its figure in place.

Panels only wire controls to functions of the other modules; they hold no algorithm. Each panel
function returns the panel widget and exposes ``panel.render()`` so a notebook run headless
(papermill) can draw once with the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from stochvis import display as show
from stochvis.layers import capture, conv_layers, layer_shape
from stochvis.models import WrappedModel


class Panel(W.VBox):
    """Controls above an output area; ``render()`` redraws the output from the controls' values."""

    def __init__(self, controls: Sequence[W.Widget], draw: Callable[[], None], *, auto: bool = True) -> None:
        self.output = W.Output()
        self._draw = draw
        self.renders = 0
        super().__init__([W.HBox(list(controls[:3])), *([W.HBox(list(controls[3:]))] if len(controls) > 3 else []), self.output])
        if auto:
            for control in controls:
                if hasattr(control, "value") and not isinstance(control, W.Button):
                    control.observe(lambda _change: self.render(), names="value")

    def render(self) -> None:
        with self.output:
            self.output.clear_output(wait=True)
            self._draw()
            plt.show()
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
        figure = activation_figure(x[0], act, channel.value, title=f"{model.name} {layer.value}")
        display(figure)
        plt.close(figure)

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
