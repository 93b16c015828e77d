"""What activation maximisation maximises: composable objectives over captured activations.

An objective is a callable ``{layer_name: activation} -> scores`` of shape ``(N,)``, one score per
image, to *maximise*. Each declares the layers it reads (``.layers``) so the forward pass stops
after the deepest one, and objectives combine with ``+``, ``-``, ``* scalar`` and unary ``-``
(Lucent's design). Per-image scores matter: a batch of N images can carry N targets, e.g.
``class_logit([3, 7, 9])`` makes image i maximise class i, so N classes cost one batched run.

Targets that need the model (class *names*, channel ranges) are checked by :meth:`Objective.bind`,
which :func:`stochvis.optvis.optimize.optimize` calls before the first step, so a typo fails at once with
the valid names instead of after minutes of optimisation.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch

from stochvis import tokens
from stochvis.inputs import as_index
from stochvis.models import LOGITS, WrappedModel

Activations = Mapping[str, torch.Tensor]
ScoreFn = Callable[[Activations], torch.Tensor]
Target = int | str | tuple | Callable  # what as_objective parses: a class, "layer:channel", (layer, channel[, y, x]), a callable


class Objective:
    """A per-image score built from the activations of ``layers``: what optimisation maximises and
    what attribution differentiates (:func:`stochvis.attribution.gradient` takes the same targets).

    ``fn`` maps the captured activations to a tensor of shape (N,). Pass ``bind`` (model → bound
    ``Objective``) when the objective must be checked against or resolved with a model; ``fn`` may
    then be ``None`` until bound (e.g. a class given by name). Why per image and not a sum: a
    gradient per image needs its own score, and a batch may carry one target per image.
    """

    def __init__(
        self,
        fn: ScoreFn | None,
        layers: Iterable[str],
        name: str = "objective",
        *,
        bind: Callable[[WrappedModel], Objective] | None = None,
        children: Sequence[Objective] = (),
        classes: Sequence[int | str] | None = None,
    ) -> None:
        self.fn = fn
        self.layers = frozenset([layers] if isinstance(layers, str) else layers)
        self.name = name
        self._bind = bind
        self.children = tuple(children)
        self.classes = list(classes) if classes is not None else None  # class targets, per image

    # -- evaluation ----------------------------------------------------------------------------
    def __call__(self, activations: Activations) -> torch.Tensor:
        if self.fn is None:
            raise RuntimeError(f"objective {self.name!r} needs the model (class names are resolved there): "
                               "call objective.bind(model) first (optimize does)")
        score = self.fn(activations)
        if score.dim() == 0:
            score = score.reshape(1)
        batch = next(iter(activations.values())).shape[0] if activations else None
        if score.dim() != 1 or (batch is not None and score.shape[0] not in (1, batch)):
            raise ValueError(f"objective {self.name!r} must give one score per image, shape ({batch or 'N'},); "
                             f"got {tuple(score.shape)}")
        return score

    def scores(self, model: WrappedModel, images: torch.Tensor) -> torch.Tensor:
        """Per-image scores of a bound objective on ``images``, in the autograd graph (attribution
        differentiates them); the forward stops after the deepest layer read."""
        from stochvis.layers import capture

        return self(capture(model, images, sorted(self.layers)))

    def bind(self, model: WrappedModel) -> Objective:
        """Validated against ``model`` (layers, channels, classes); names resolved to indices."""
        for layer in self.layers:
            model.resolve(layer)  # KeyError naming the closest valid layers
        return self._bind(model) if self._bind is not None else self

    def leaves(self) -> list[Objective]:
        """The terms this objective is made of (itself if it is not a combination)."""
        return [leaf for child in self.children for leaf in child.leaves()] if self.children else [self]

    def __repr__(self) -> str:
        return f"Objective({self.name})"

    # -- arithmetic ----------------------------------------------------------------------------
    def __add__(self, other: Objective | float) -> Objective:
        other = _as_objective(other)
        return _combine(lambda a, b: a + b, self, other, f"{self.name} + {other.name}")

    def __radd__(self, other: Objective | float) -> Objective:
        if isinstance(other, numbers.Number) and other == 0:  # sum([...]) starts from 0
            return self
        return _as_objective(other) + self

    def __sub__(self, other: Objective | float) -> Objective:
        other = _as_objective(other)
        return _combine(lambda a, b: a - b, self, other, f"{self.name} - ({other.name})")

    def __rsub__(self, other: Objective | float) -> Objective:
        return _as_objective(other) - self

    def __mul__(self, factor: float) -> Objective:
        if not isinstance(factor, numbers.Number):
            return NotImplemented
        return _scale(self, float(factor), f"{factor:g}·{self.name}")

    __rmul__ = __mul__

    def __truediv__(self, divisor: float) -> Objective:
        if not isinstance(divisor, numbers.Number):
            return NotImplemented
        return _scale(self, 1.0 / float(divisor), f"{self.name}/{divisor:g}")

    def __neg__(self) -> Objective:
        return _scale(self, -1.0, f"-{self.name}")


def _as_objective(value: Objective | float) -> Objective:
    if isinstance(value, Objective):
        return value
    if isinstance(value, numbers.Number):
        constant = float(value)
        return Objective(lambda acts: _batch_zeros(acts) + constant, (), f"{constant:g}")
    raise TypeError(f"cannot combine an objective with {type(value).__name__}")


def _batch_zeros(acts: Activations) -> torch.Tensor:
    if not acts:
        return torch.zeros(1)
    first = next(iter(acts.values()))
    return first.new_zeros(first.shape[0], dtype=torch.float32)


def _combine(op, a: Objective, b: Objective, name: str) -> Objective:
    fn = (lambda acts: op(a(acts), b(acts))) if a.fn is not None and b.fn is not None else None
    classes = a.classes if a.classes is not None else b.classes
    return Objective(fn, a.layers | b.layers, name, bind=lambda model: _combine(op, a.bind(model), b.bind(model), name),
                     children=(a, b), classes=classes)


def _scale(a: Objective, factor: float, name: str) -> Objective:
    fn = (lambda acts: factor * a(acts)) if a.fn is not None else None
    return Objective(fn, a.layers, name, bind=lambda model: _scale(a.bind(model), factor, name),
                     children=(a,), classes=a.classes)


# ----------------------------------------------------------------------------------------------
# per-image targets
# ----------------------------------------------------------------------------------------------

def _targets(values: int | str | Sequence[int | str], what: str = "target") -> list[int | str]:
    if isinstance(values, (int, str)) or (torch.is_tensor(values) and values.dim() == 0) or not hasattr(
            values, "__iter__"):
        return [values if isinstance(values, str) else as_index(values, what)]
    out = [v if isinstance(v, str) else as_index(v, what) for v in values]
    if not out:
        raise ValueError("an empty list of targets")
    return out


def as_objective(target: Target) -> Objective:
    """**The** parser of targets, for optimisation and attribution alike: an Objective (as is); a class
    index or name → its logit (Simonyan's unnormalised score); ``(layer, channel)`` or the string
    ``"layer:channel"`` → the channel's mean activation (a token layer's hidden unit, :mod:`stochvis.tokens`); ``(layer, channel, y, x)`` or ``(layer, channel, (y, x))`` → one neuron (for a
    flat layer (N, C), ``(layer, unit)``); a callable with ``layers`` (called with {layer: activation},
    returning (N,) scores). Why one parser: ``optimize(model, ("conv3", 1))`` and
    ``gradient(model, x, ("conv3", 1))`` must mean the same unit. Names, channels and positions are
    checked when the objective is bound to a model (:meth:`Objective.bind`) or on the first activation."""
    if isinstance(target, Objective):
        return target
    if isinstance(target, str) and _layer_channel(target) is not None:
        return channel(*_layer_channel(target))
    if isinstance(target, (int, str)) and not isinstance(target, bool):
        return Objective(None, [LOGITS], str(target), bind=lambda model: _class_score(model, target), classes=[target])
    if isinstance(target, tuple):
        return Objective(None, [target[0]] if target else [], str(target), bind=lambda model: _neuron_score(model, target))
    if callable(target):
        layers = getattr(target, "layers", None) or []
        return Objective(None, layers, str(target), bind=lambda model: _callable_score(model, target))
    raise TypeError(f"unsupported target {target!r}: use an Objective (stochvis.optvis.objectives), a class "
                    "index/name, (layer, channel), (layer, channel, y, x) or a callable with `.layers`")


def _layer_channel(target: str) -> tuple[str, int] | None:
    """``"layer:channel"`` → ``(layer, channel)``; None for anything else (a class name)."""
    layer, sep, unit = target.rpartition(":")
    return (layer, int(unit)) if sep and layer and unit.strip().isdigit() else None


def _class_score(model: WrappedModel, target: int | str) -> Objective:
    index = model.class_index(target)
    return Objective(lambda acts: acts[LOGITS][:, index], [LOGITS], f"class {index} ({model.classes[index]})",
                     classes=[index])  # a class target: rules that need the class (saturation inversion) read it


def _neuron_score(model: WrappedModel, target: tuple) -> Objective:
    if len(target) == 3 and isinstance(target[2], (tuple, list)):
        target = (target[0], target[1], *target[2])
    if len(target) not in (2, 4):
        raise ValueError(f"neuron target must be (layer, channel) or (layer, channel, y, x), got {target!r}")
    layer, channel = target[0], as_index(target[1], "channel")
    position = tuple(as_index(v, "position") for v in target[2:]) or None
    model.resolve(layer)  # KeyError naming close layer names

    def fn(acts: Activations) -> torch.Tensor:
        act = tokens.as_map(acts[layer], model)  # a token layer: (N, D, h, w) over its patch tokens
        # Validated on the activation itself: same message as layers.check_channel, no extra probe forward.
        if not 0 <= channel < act.shape[1]:
            raise IndexError(f"channel {channel} out of range: {model.name} layer {layer!r} has channels 0..{act.shape[1] - 1}")
        if act.dim() == 2:
            if position is not None:
                raise ValueError(f"layer {layer!r} is flat {tuple(act.shape[1:])}: it has no (y, x) position")
            return act[:, channel]
        if position is None:
            return act[:, channel].flatten(1).mean(1)
        height, width = act.shape[-2:]
        y, x = position
        if not (0 <= y < height and 0 <= x < width):
            raise IndexError(f"position (y={y}, x={x}) out of range: {model.name} layer {layer!r} is "
                             f"{height}×{width} at this input size (y 0..{height - 1}, x 0..{width - 1})")
        return act[:, channel, y, x]

    where = f" at (y={position[0]}, x={position[1]})" if position else ""
    return Objective(fn, [layer], f"{layer} channel {channel}{where}")


def _callable_score(model: WrappedModel, target: Callable) -> Objective:
    if callable(getattr(target, "bind", None)):
        target = target.bind(model)  # checks channels, resolves class names
    layers = getattr(target, "layers", None)
    if layers is None:
        raise TypeError("a callable target needs a `layers` attribute naming the activations it reads "
                        "(objectives from stochvis.optvis.objectives have one); it is called with {layer: activation}")
    layers = [layers] if isinstance(layers, str) else sorted(layers)
    for layer in layers:
        model.resolve(layer)
    name = getattr(target, "name", None) or getattr(target, "description", None) or repr(target)
    return Objective(target, layers, str(name))


def _per_image(index: list[int], batch: int, device: torch.device, what: str) -> torch.Tensor:
    """Target index per image: one target for the whole batch, or exactly one per image."""
    if len(index) not in (1, batch):
        raise ValueError(f"{len(index)} {what} targets for a batch of {batch} images: give 1 or {batch} targets, "
                         f"or optimise with batch={len(index)} (one image per target)")
    return torch.as_tensor(index * batch if len(index) == 1 else index, device=device)


def _pick(act: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """act[i, index[i], ...] for every image i."""
    return act[torch.arange(act.shape[0], device=act.device), index]


def _spatial_mean(act: torch.Tensor) -> torch.Tensor:
    return act.flatten(2).mean(2) if act.dim() > 2 else act


# ----------------------------------------------------------------------------------------------
# constructors
# ----------------------------------------------------------------------------------------------

def neuron(layer: str, channel: int | Sequence[int], y: int | None = None, x: int | None = None) -> Objective:
    """One unit: activation of ``channel`` at position (y, x) of ``layer`` (default: the centre).

    This is a single "neuron" in the sense of Yosinski et al. 2015 / the source documents' a_i.
    """
    channels = _targets(channel, "channel")

    def make(model: WrappedModel | None) -> ScoreFn:
        def fn(acts: Activations) -> torch.Tensor:
            act = tokens.as_map(acts[layer], model)  # a token layer: (N, D, h, w) over its patch tokens
            picked = _pick(act, _per_image(channels, act.shape[0], act.device, "channel"))
            if picked.dim() == 1:
                return picked
            height, width = picked.shape[-2:]
            row = height // 2 if y is None else y
            col = width // 2 if x is None else x
            if not (0 <= row < height and 0 <= col < width):
                raise IndexError(f"neuron position (y={row}, x={col}) outside layer {layer!r} of size {height}×{width}")
            return picked[:, row, col]

        return fn

    name = f"{layer}:{channel}" + (f"@({y},{x})" if y is not None or x is not None else "")
    return Objective(make(None), [layer], name, bind=_check_channels(make, layer, channels, name))


def channel(layer: str, channel: int | Sequence[int]) -> Objective:
    """Spatial mean of one channel (or one channel per image) of ``layer``; of a token layer, the mean of one
    hidden unit over the patch tokens, class token excluded (:mod:`stochvis.tokens`)."""
    channels = _targets(channel, "channel")

    def make(model: WrappedModel | None) -> ScoreFn:
        def fn(acts: Activations) -> torch.Tensor:
            act = tokens.as_map(acts[layer], model)
            return _spatial_mean(_pick(act, _per_image(channels, act.shape[0], act.device, "channel")).unsqueeze(1))[:, 0]

        return fn

    name = f"{layer}:{channel}"
    return Objective(make(None), [layer], name, bind=_check_channels(make, layer, channels, name))


def _check_channels(make: Callable, layer: str, channels: list, name: str) -> Callable[[WrappedModel], Objective]:
    def bind(model: WrappedModel) -> Objective:
        from stochvis.layers import check_channel

        for c in channels:
            check_channel(model, layer, c)  # IndexError naming the valid range
        return Objective(make(model), [layer], name)

    return bind


def layer_norm(layer: str) -> Objective:
    """DeepDream: the mean squared activation of a whole layer (its squared L2 norm ÷ its size)."""
    return Objective(lambda acts: acts[layer].float().pow(2).flatten(1).mean(1), [layer], f"‖{layer}‖²")


def _class_objective(targets: int | str | Sequence[int | str], name: str,
                     score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Objective:
    wanted = _targets(targets, "class")

    def make(index: list[int]) -> ScoreFn:
        def fn(acts: Activations) -> torch.Tensor:
            logits = acts[LOGITS].float()
            return score(logits, _per_image(index, logits.shape[0], logits.device, "class"))

        return fn

    def bind(model: WrappedModel) -> Objective:
        index = [model.class_index(t) for t in wanted]
        label = ",".join(model.classes[i] for i in index)
        return Objective(make(index), [LOGITS], f"{name}({label})", classes=index)

    eager = make(wanted) if all(isinstance(t, int) for t in wanted) else None
    return Objective(eager, [LOGITS], f"{name}({','.join(map(str, wanted))})", bind=bind, classes=wanted)


def class_logit(target: int | str | Sequence[int | str]) -> Objective:
    """The unnormalised class score S_c (Simonyan et al. 2013 maximise this, not the softmax:
    maximising the softmax can be done by *lowering* the other classes)."""
    return _class_objective(target, "logit", lambda logits, index: _pick(logits, index))


def class_probability(target: int | str | Sequence[int | str]) -> Objective:
    """The softmax probability of the class (the source documents' "maximise the Softmax layer")."""
    return _class_objective(target, "softmax", lambda logits, index: _pick(logits.softmax(1), index))


def class_set_logit(sets: Sequence[int | str] | Sequence[Sequence[int | str]]) -> Objective:
    """log Σ exp of the logits of a *set* of classes ("any bird": ImageNet's 59 bird species), one set for
    every image or one set per image. Why log-sum-exp: it rises with whichever class of the set the image
    already resembles most, instead of forcing one arbitrary species."""
    return _class_set(sets, ceiling=None)


def class_set_evidence(sets: Sequence[int | str] | Sequence[Sequence[int | str]],
                       ceiling: float | Sequence[float]) -> Objective:
    """The log-probability of a class *set* (log of the softmax mass on it), capped at ``log(ceiling)``:
    "make the image this much of the class, no more". Why: an uncapped class logit keeps pushing after
    the image is already as convincing as real class photographs are, and what it adds then is what
    only the classifier's last layer likes (adversarial detail that costs realism, measured in the
    natural-image table); capped at the mass the network gives *real* class images, the pressure stops
    where real images stand. Above the cap the objective is flat (no gradient). ``ceiling``: one mass
    in (0, 1] for every image, or one per image."""
    caps = [float(c) for c in ceiling] if isinstance(ceiling, Sequence) else [float(ceiling)]
    if not caps or not all(0 < c <= 1 for c in caps):
        raise ValueError(f"ceiling={ceiling!r}: a probability mass in (0, 1] (or one per image), e.g. the network's "
                         "mean mass on real images of the class (stochvis.evaluation.metrics.class_set_mass)")
    return _class_set(sets, ceiling=caps)


def _class_set(sets, ceiling: list[float] | None) -> Objective:
    kind = "class_set_logit" if ceiling is None else f"class_set_evidence(≤{min(ceiling):.3g}..{max(ceiling):.3g})"
    sets = list(sets)
    per_image = bool(sets) and all(isinstance(v, (list, tuple)) for v in sets)
    groups = [list(v) for v in sets] if per_image else [sets]
    if not groups or any(not g for g in groups):
        raise ValueError(f"{kind} needs a non-empty set of classes (or one non-empty set per image)")

    def bind(model: WrappedModel) -> Objective:
        index = [[model.class_index(t) for t in group] for group in groups]
        width = max(len(g) for g in index)
        table = torch.tensor([g + [g[0]] * (width - len(g)) for g in index])  # padded with a repeat ...
        valid = torch.tensor([[True] * len(g) + [False] * (width - len(g)) for g in index])  # ... masked out
        log_caps = None if ceiling is None else torch.tensor([math.log(c) for c in ceiling])

        def fn(acts: Activations) -> torch.Tensor:
            logits = acts[LOGITS].float()
            rows = table.to(logits.device).expand(logits.shape[0], -1) if len(index) == 1 else table.to(logits.device)
            if rows.shape[0] != logits.shape[0]:
                raise ValueError(f"{len(index)} class sets for a batch of {logits.shape[0]}: give one set, or one per image")
            mask = valid.to(logits.device).expand_as(rows)
            picked = logits.gather(1, rows).masked_fill(~mask, float("-inf"))
            score = torch.logsumexp(picked, 1)
            if log_caps is None:
                return score
            if len(log_caps) not in (1, logits.shape[0]):
                raise ValueError(f"{len(log_caps)} ceilings for a batch of {logits.shape[0]}: give one, or one per image")
            return torch.minimum(score - torch.logsumexp(logits, 1), log_caps.to(logits.device))

        return Objective(fn, [LOGITS], f"{kind}({len(index)} set(s) of {width} or fewer)")

    return Objective(None, [LOGITS], kind, bind=bind)


def direction(layer: str, vector: torch.Tensor | Sequence[float]) -> Objective:
    """Projection of each position's channel vector on a unit direction, averaged over positions.

    ``vector`` has shape (C,) for every image or (N, C), one direction per image.
    """
    vec = torch.as_tensor(vector, dtype=torch.float32)
    vec = vec / vec.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def fn(acts: Activations) -> torch.Tensor:
        act = tokens.as_map(acts[layer]).float()  # a token layer: directions in its hidden units
        v = vec.to(act.device)
        v = v.expand(act.shape[0], -1) if v.dim() == 1 else v
        if v.shape != act.shape[:2]:
            raise ValueError(f"direction of shape {tuple(vec.shape)} does not fit layer {layer!r} "
                             f"with {act.shape[1]} channels and batch {act.shape[0]}")
        projected = (act * v.reshape(*v.shape, *([1] * (act.dim() - 2)))).sum(1)
        return projected.flatten(1).mean(1) if projected.dim() > 1 else projected

    return Objective(fn, [layer], f"direction({layer})")


def diversity(layer: str) -> Objective:
    """Gram-matrix dissimilarity across the batch (Olah et al. 2017): image i scores minus the mean
    cosine similarity of its Gram matrix to the other images'. Add it (weighted) to an objective to
    get different images for one target. Zero for a batch of one."""

    def fn(acts: Activations) -> torch.Tensor:
        act = tokens.as_map(acts[layer]).float()
        batch, chans = act.shape[:2]
        flat = act.reshape(batch, chans, -1)
        gram = torch.bmm(flat, flat.transpose(1, 2)).reshape(batch, -1)
        gram = gram / gram.norm(dim=1, keepdim=True).clamp_min(1e-12)
        similarity = gram @ gram.T
        if batch < 2:
            return similarity.new_zeros(batch)
        off_diagonal = similarity.sum(1) - similarity.diagonal()
        return -off_diagonal / (batch - 1)

    return Objective(fn, [layer], f"diversity({layer})")


def on_rows(objective: Objective, start: int, stop: int) -> Objective:
    """``objective`` scored on rows ``start:stop`` of the batch only, 0 on the others: a term for one view of
    images shown several ways in one batch (:class:`~stochvis.optvis.shaped.ShapedParam`), whose per-image
    targets name the images of that view."""
    if not 0 <= start < stop:
        raise ValueError(f"rows {start}:{stop}: need 0 ≤ start < stop")

    def bind(model: WrappedModel) -> Objective:
        bound = objective.bind(model)

        def fn(acts: Activations) -> torch.Tensor:
            first = next(iter(acts.values()))
            if first.shape[0] < stop:
                raise ValueError(f"{bound.name} on rows {start}:{stop} of a batch of {first.shape[0]}")
            score = bound({name: act[start:stop] for name, act in acts.items()})
            out = first.new_zeros(first.shape[0], dtype=score.dtype)
            out[start:stop] = score
            return out

        return Objective(fn, bound.layers, f"{bound.name}[{start}:{stop}]")

    return Objective(None, objective.layers, f"{objective.name}[{start}:{stop}]", bind=bind)


def evaluate(model: WrappedModel, objective: Objective, images: torch.Tensor) -> torch.Tensor:
    """Per-image scores of ``objective`` on fixed ``images`` (no gradient)."""
    bound = objective.bind(model)
    with torch.no_grad():
        return bound.scores(model, images.to(model.device)).float().cpu()
