"""ipywidgets panels for tuning by hand: each panel re-renders its figure in place.

Panels only wire controls to functions of the other modules; they hold no algorithm. Each panel
function returns the panel widget and exposes ``panel.render()`` so a notebook run headless
(papermill) can draw once with the defaults. Panels that optimise or sample carry a seed control
(:class:`~stochvis.viz.seeds.SeedControl`: the seed used, shown in the status or title, and a "new sample"
button that draws a new one and re-runs).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from stochvis import tokens
from stochvis.layers import capture, conv_layers, layer_shape
from stochvis.models import WrappedModel
from stochvis.tokens import channel_count
from stochvis.viz import display as show
from stochvis.viz.figures import activation_figure, gradient_figure, maximization_figure
from stochvis.viz.seeds import SeedControl


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
    channel = W.IntSlider(value=0, min=0, max=channel_count(layer_shape(model, layer_names[0])) - 1,
                          description="channel")

    def on_layer(change) -> None:
        channel.max = channel_count(layer_shape(model, change["new"])) - 1

    layer.observe(on_layer, names="value")

    def draw() -> None:
        x = images[image.value].unsqueeze(0).to(model.device)
        with torch.no_grad():
            act = tokens.as_map(capture(model, x, [layer.value])[layer.value], model)[0]  # tokens on their grid
        return activation_figure(x[0], act, channel.value, title=f"{model.name} {layer.value}")

    panel = Panel([layer, channel, image], draw)
    panel.controls = {"layer": layer, "channel": channel, "image": image}
    return panel


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
    from stochvis import attribution

    models = models if isinstance(models, dict) else {models.name: models}

    def layer_options(name: str) -> list[str]:
        if layers and name in layers:
            return list(layers[name])
        model = models[name]
        return list(conv_layers(model)) + (["logits"] if model.classes else [])

    def channels(model_name: str, layer_name: str) -> int:
        size = tuple(next(iter(images.values())).shape[-2:])
        return channel_count(layer_shape(models[model_name], layer_name, size))

    first = next(iter(models))
    model_choice = W.Dropdown(options=list(models), value=first, description="model")
    layer = W.Dropdown(options=layer_options(first), value=layer_options(first)[-1], description="layer")
    channel = W.IntSlider(value=0, min=0, max=channels(first, layer.value) - 1, description="channel")
    method = W.Dropdown(options=list(methods), value=methods[0], description="method")
    image = W.Dropdown(options=list(images), value=next(iter(images)), description="image")
    style_box = W.Dropdown(options=list(show.SALIENCY_STYLES), value="rgb", description="show")

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
        result = attribution.gradient(model, x, (layer.value, channel.value), method.value, n=smoothgrad_samples, seed=0)
        return gradient_figure(x[0], result, style=style_box.value, title=f"{model.name} {result.target}")

    panel = Panel([model_choice, layer, channel, method, image, style_box], draw)
    panel.controls = {"model": model_choice, "layer": layer, "channel": channel, "method": method,
                      "image": image, "style": style_box}
    return panel


def maximization_panel(
    models: WrappedModel | dict[str, WrappedModel],
    *,
    size: int = 128,
    steps: int = 64,
    lr: float = 0.01,
    target: str | None = None,
    layer: str | None = None,
    channel: int = 0,
    spectrum=None,
) -> Panel:
    """Tune activation maximisation by hand: model / layer / channel / class selectors, the
    parameterisation (pixels, Olah's FFT, MACO's phase with a fixed magnitude), a slider for every
    regulariser strength (0 = off), steps, learning rate, octaves, and a Run button. The image and
    the objective curve re-render in place; with MACO the importance mask is drawn as transparency.
    ``spectrum``: MACO's magnitude (a ``MagnitudeSpectrum``, or a function of the size giving one;
    without one, choosing MACO says what to pass). ``panel.result`` holds the last
    :class:`~stochvis.optvis.optimize.OptimizationResult`, ``panel.figure`` the last figure.
    """
    from stochvis.optvis import objectives as O
    from stochvis.optvis import regularizers as R
    from stochvis.optvis.optimize import optimize

    models = models if isinstance(models, dict) else {models.name: models}
    first = next(iter(models.values()))
    style = {"description_width": "110px"}
    model_box = W.Dropdown(options=list(models), description="model", style=style)
    objective_box = W.Dropdown(options=["class logit", "class softmax", "channel"], description="objective", style=style)
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
            objective_box.value = "channel"
        elif not class_box.value:
            class_box.value = target or model.classes[0]

    def on_layer(_change=None) -> None:
        if layer_box.value:
            channel_box.max = channel_count(layer_shape(models[model_box.value], layer_box.value)) - 1

    model_box.observe(on_model, names="value")
    layer_box.observe(on_layer, names="value")
    on_model()
    on_layer()
    if first.classes is None:
        objective_box.value = "channel"

    def slider(cls, description, value, lo, hi, stepsize):
        return cls(value=value, min=lo, max=hi, step=stepsize, description=description, style=style,
                   continuous_update=False)

    run_controls = {
        "steps": slider(W.IntSlider, "steps", steps, 1, 512, 1),
        "lr": W.FloatLogSlider(value=lr, base=10, min=-4, max=1, step=0.1, description="learning rate", style=style),
        "optimizer": W.Dropdown(options=["sgd", "adam", "nadam"], value="sgd", description="optimizer", style=style),
        "param": W.Dropdown(options=["pixels", "fft", "maco"], value="pixels", description="parameterisation",
                            style=style),
        "crops": slider(W.IntSlider, "MACO crops", 2, 0, 16, 1),
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
    seed = SeedControl(style=style)
    status = W.Label(value="")
    panel: Panel

    def objective_from_controls():
        if objective_box.value == "channel":
            return O.channel(layer_box.value, channel_box.value)
        wanted = class_box.value.strip()
        wanted = int(wanted) if wanted.isdigit() else wanted
        return O.class_logit(wanted) if objective_box.value == "class logit" else O.class_probability(wanted)

    def draw() -> plt.Figure:
        model = models[model_box.value]
        objective = objective_from_controls()
        values = {name: control.value for name, control in strengths.items()}
        is_class = objective_box.value != "channel"
        values["saturation"] = values["saturation"] if is_class and values["saturation"] < 1.0 else None
        values["blur_sigma"] = values["blur_sigma"] if values["blur_sigma"] >= 0.3 else 0.0  # σ < 0.3 px: invisible, off
        size = run_controls["size"].value
        param, maco_crops = _parameterisation(run_controls["param"].value, size, spectrum, values)
        pixels = param is None  # filters and projections that edit pixels need a pixel parameterisation
        regs = R.from_strengths(normalize=run_controls["normalize"].value and pixels, **values) + maco_crops(
            run_controls["crops"].value)
        octaves = run_controls["octaves"].value
        status.value = "running…"
        result = optimize(model, objective, param, regularizers=regs, steps=run_controls["steps"].value,
                          lr=run_controls["lr"].value, optimizer=run_controls["optimizer"].value, size=size,
                          octaves=octaves if octaves > 1 else None, importance=run_controls["param"].value == "maco",
                          seed=seed.value, progress=False)
        status.value = f"seed {seed.value}: {result.seconds_per_step * 1e3:.0f} ms/step"
        shown = None
        if result.importance is not None:
            from stochvis.optvis.maco import transparent

            shown = transparent(result.images, result.importance)
        figure = maximization_figure(result, title=f"{model.name} · {result.objective} · seed {seed.value}", images=shown)
        panel.result, panel.figure = result, figure
        return figure

    columns = [
        W.VBox([model_box, objective_box, layer_box, channel_box, class_box, run_button, *seed.widgets, status]),
        W.VBox(list(run_controls.values()) + list(strengths.values())[:4]),
        W.VBox(list(strengths.values())[4:]),
    ]
    panel = Panel(columns, draw, auto=False)
    panel.result, panel.figure = None, None
    panel.controls = {"model": model_box, "objective": objective_box, "layer": layer_box, "channel": channel_box,
                      "class": class_box, "run": run_button, "seed": seed.box, "new_sample": seed.button, "status": status,
                      **run_controls, **strengths}
    run_button.on_click(lambda _button: panel.render())
    seed.on_new(panel.render)
    return panel


def _parameterisation(choice: str, size: int, spectrum, strengths: dict):
    """(param factory or None, crops builder) for the panel's parameterisation choice. FFT and MACO images have
    no pixels of their own, so the regularisers that edit pixels or their gradient (decay, clipping, image and
    gradient blur, gradient normalisation) are switched off for them."""
    from stochvis.optvis import params

    none = lambda crops: []  # noqa: E731
    if choice == "pixels":
        return None, none
    for pixel_only in ("decay", "norm_pct", "contribution_pct", "blur_sigma"):
        strengths[pixel_only] = 0.0
    strengths["blur_kernel"] = 1
    if choice == "fft":
        return functools.partial(params.fft, decorrelate=True), none
    from stochvis.optvis import maco, presets

    if spectrum is None:
        raise ValueError("the MACO parameterisation needs a magnitude spectrum: pass spectrum= (a MagnitudeSpectrum, "
                         "or a function of the size, e.g. stochvis.worlds.spectra.natural_spectrum)")
    magnitude = spectrum(size) if callable(spectrum) else spectrum
    return (functools.partial(maco.maco, magnitude),
            lambda crops: presets.short_maco(size, crops=crops)["regularizers"] if crops else [])


def mixture_panel(
    model: WrappedModel,
    rankings: dict,
    *,
    size: int = 128,
    steps: int = 64,
    k: int = 10,
    preset: str = "garon2017",
) -> Panel:
    """Tune the mixture experiment: image group, K channels per layer, one weight slider per ranked
    layer (0 drops it), steps, and a Run button; draws the synthesised image and its objective curve.
    ``rankings`` maps a group name to a :class:`stochvis.methods.channel_groups.ChannelRanking` of ``model``."""
    from stochvis.methods import channel_groups
    from stochvis.optvis import presets

    style = {"description_width": "90px"}
    first = next(iter(rankings.values()))
    group = W.Dropdown(options=list(rankings), description="group", style=style)
    k_box = W.IntSlider(value=k, min=1, max=64, description="K per layer", style=style, continuous_update=False)
    steps_box = W.IntSlider(value=steps, min=1, max=512, description="steps", style=style, continuous_update=False)
    weights = {layer: W.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.05, description=layer, style=style,
                                    continuous_update=False) for layer in first.layers}
    run_button = W.Button(description="Run", button_style="primary", icon="play")
    seed = SeedControl(style=style)

    def draw() -> plt.Figure:
        ranking = rankings[group.value]
        objective = channel_groups.mixture_objective(ranking, k_box.value, {n: s.value for n, s in weights.items()})
        result = presets.run(preset, model, objective, steps=steps_box.value, size=size, seed=seed.value, progress=False)
        panel.result = result
        return maximization_figure(result, title=f"{group.value}: top {k_box.value} per layer · seed {seed.value}")

    panel = Panel([group, k_box, steps_box, *weights.values(), run_button, *seed.widgets], draw, auto=False)
    panel.result = None
    panel.controls = {"group": group, "k": k_box, "steps": steps_box, "run": run_button, "seed": seed.box,
                      "new_sample": seed.button, **weights}
    run_button.on_click(lambda _button: panel.render())
    seed.on_new(panel.render)
    return panel


def generator_panel(
    model: WrappedModel,
    prior,
    objectives: dict,
    *,
    steps: int = 64,
    lr: float = 0.05,
    batch: int = 4,
) -> Panel:
    """Tune DGN-AM by hand: objective (from ``objectives``, name → Objective), L2 strength on the
    code, clip multiple (mean + m·std for a ReLU code, ±m for a GAN's N(0, 1) prior; 0 = no box),
    restarts, steps, learning rate; draws the restarts and their objective curves.
    ``prior`` is a :class:`stochvis.methods.generator_prior.GeneratorPrior`, or a dict name → prior to choose
    from (e.g. generators of an early and a late code layer)."""
    from stochvis.optvis import params
    from stochvis.optvis.optimize import optimize

    priors = prior if isinstance(prior, dict) else {prior.name: prior}
    if not priors:
        raise ValueError("generator_panel needs at least one prior")
    style = {"description_width": "90px"}
    generator = W.Dropdown(options=list(priors), description="generator", style=style)
    target = W.Dropdown(options=list(objectives), description="objective", style=style)
    l2 = W.FloatLogSlider(value=1e-3, base=10, min=-5, max=0, step=0.25, description="code L2", style=style,
                          continuous_update=False)
    clip = W.FloatSlider(value=3.0, min=0.0, max=6.0, step=0.25, description="clip ×std", style=style,
                         continuous_update=False)
    restarts = W.IntSlider(value=batch, min=1, max=16, description="restarts", style=style, continuous_update=False)
    steps_box = W.IntSlider(value=steps, min=1, max=512, description="steps", style=style, continuous_update=False)
    lr_box = W.FloatLogSlider(value=lr, base=10, min=-3, max=0, step=0.1, description="learning rate", style=style,
                              continuous_update=False)
    run_button = W.Button(description="Run", button_style="primary", icon="play")
    seed = SeedControl(style=style)

    def boxed():
        prior = priors[generator.value]
        return prior.with_clip(None, None) if clip.value == 0 else prior.clipped(clip.value)  # 0: no box at all

    def draw() -> plt.Figure:
        param = params.generator_latent(boxed(), batch=restarts.value, l2=l2.value, device=model.device)
        result = optimize(model, objectives[target.value], param, steps=steps_box.value, lr=lr_box.value,
                          seed=seed.value, progress=False)
        panel.result = result
        return maximization_figure(result, title=f"DGN-AM · {generator.value} · {result.objective} · seed {seed.value}")

    controls = ([generator] if len(priors) > 1 else []) + [target, l2, clip, restarts, steps_box, lr_box, run_button,
                                                           *seed.widgets]
    panel = Panel(controls, draw, auto=False)
    panel.result = None
    panel.controls = {"generator": generator, "objective": target, "l2": l2, "clip": clip, "restarts": restarts,
                      "steps": steps_box, "lr": lr_box, "run": run_button, "seed": seed.box, "new_sample": seed.button}
    run_button.on_click(lambda _button: panel.render())
    seed.on_new(panel.render)
    return panel


def reconstruction_panel(
    model: WrappedModel,
    per_class: dict,
    *,
    layers: Sequence[str],
    prior_features: Sequence[str] = (),
    am_objective: Callable[[str], object] | None = None,
    steps: int = 60,
    lr: float = 0.05,
    samples: int = 3,
    max_samples: int = 8,
) -> Panel:
    """Stochastic deconvolution by hand: class, layer (feature of the statistics), number of samples,
    statistics-prior strength (0 = off), steps, and a Run button.

    ``per_class`` maps a class name to its :class:`~stochvis.stats.store.Statistics`. Mode
    "reconstruct samples" inverts n activation samples of ``layer`` (plus strength × the prior on
    ``prior_features``); mode "AM + prior" (when ``am_objective(class_name)`` is given) maximises that
    objective plus the prior. Titles give each image's Mahalanobis/√d on the first prior feature
    (≈ 1 for a real member of the class). ``panel.result`` holds the last result.
    """
    from stochvis.methods import class_prior, deconvolution, inversion
    from stochvis.optvis.optimize import optimize

    style = {"description_width": "110px"}
    class_box = W.Dropdown(options=list(per_class), description="class", style=style)
    layer_box = W.Dropdown(options=list(layers), description="layer", style=style)
    samples_box = W.IntSlider(value=samples, min=1, max=max_samples, description="samples", style=style,
                              continuous_update=False)
    strength_box = W.FloatSlider(value=0.0, min=0.0, max=20.0, step=0.5, description="prior strength", style=style,
                                 continuous_update=False)
    steps_box = W.IntSlider(value=steps, min=1, max=500, description="steps", style=style, continuous_update=False)
    modes = ["reconstruct samples"] + (["AM + prior"] if am_objective is not None else [])
    mode_box = W.Dropdown(options=modes, description="mode", style=style)
    run_button = W.Button(description="Run", button_style="primary", icon="play")
    seed = SeedControl(style=style)
    status = W.Label(value="")
    panel: Panel

    def draw() -> plt.Figure:
        stats = per_class[class_box.value]
        size = tuple(stats.meta["image_size"])
        n, strength = samples_box.value, strength_box.value
        prior = class_prior.statistics_prior(stats, list(prior_features), strength) if strength > 0 and prior_features else None
        status.value = "running…"
        if mode_box.value == "AM + prior":
            objective = am_objective(class_box.value)
            objective = objective + prior if prior is not None else objective
            result = optimize(model, objective, regularizers=inversion.image_priors(size), steps=steps_box.value, lr=lr,
                              batch=n, size=size, seed=seed.value, progress=False)
            images, labels = result.images, [f"AM {class_box.value} #{i}" for i in range(n)]
            status.value = f"seed {seed.value}: {result.seconds_per_step * steps_box.value / n:.1f} s/image"
        else:
            result = deconvolution.stochastic_deconvolution(model, stats, layer_box.value, n, steps=steps_box.value, lr=lr,
                                                            prior=prior, seed=seed.value)
            images = result.images
            labels = [f"sample {i}: err {e:.2f}" for i, e in enumerate(result.error.tolist())]
            status.value = f"seed {seed.value}: {result.seconds_per_image:.1f} s/image"
        if prior_features:
            summary = class_prior.outlier_summary(stats, model, images, prior_features[0])
            distance = next(iter(summary.values()))["mahalanobis_per_dim"]
            labels = [f"{label}\n{prior_features[0]} M/√d {d:.1f}" for label, d in zip(labels, distance)]
        panel.result = result
        return show.image_grid(images, titles=labels, columns=min(n, 4), size=2.6)

    columns = [W.VBox([class_box, layer_box, mode_box, run_button, *seed.widgets, status]),
               W.VBox([samples_box, strength_box, steps_box])]
    panel = Panel(columns, draw, auto=False)
    panel.result = None
    panel.controls = {"class": class_box, "layer": layer_box, "samples": samples_box, "strength": strength_box,
                      "steps": steps_box, "mode": mode_box, "run": run_button, "seed": seed.box, "new_sample": seed.button}
    run_button.on_click(lambda _button: panel.render())
    seed.on_new(panel.render)
    return panel
