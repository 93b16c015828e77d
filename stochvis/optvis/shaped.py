"""An object of a given outline over a backdrop: two image parameterisations blended by a fixed mask.

Why: an optimised image fills every position with what the objective asks for; a photograph of a thing is a thing
of one outline on a background. Here the outline is given (e.g. drawn from a class's shape model,
:mod:`stochvis.stats.silhouettes`), not learned: a learned mask (:class:`~stochvis.optvis.params.CutoutParam`) shrinks
to whatever few pixels the objective needs. The object alone can also be shown to the network, on a plain grey
canvas, and the backdrop alone, whole, as more views in the same batch, so that an objective can ask the *object*
to carry the class and the *backdrop* to look like a background (:func:`~stochvis.optvis.objectives.on_rows` scores
a term on one view only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from stochvis.inputs import image_size
from stochvis.optvis.params import ImageParam

VIEWS = ("composite", "object", "backdrop")  # what a ShapedParam can show: the blend, the object alone on grey,
# the backdrop alone (all of it, also where the object hides it)
GREY = 0.5  # the object view's canvas


class ShapedParam(ImageParam):
    """``views`` of N images, view-major in one batch (rows ``v·N`` to ``(v+1)·N`` are view ``v``): the
    composite ``mask·foreground + (1 − mask)·backdrop``, the object alone on grey and/or the backdrop alone.
    :meth:`composites` gives the images themselves."""

    def __init__(self, foreground: ImageParam, backdrop: ImageParam, mask: torch.Tensor,
                 views: Sequence[str] = ("composite",)) -> None:
        super().__init__()
        views = tuple(views)
        if not views or any(v not in VIEWS for v in views) or len(set(views)) != len(views):
            raise ValueError(f"views={views!r}: distinct names among {', '.join(VIEWS)}")
        n, size = foreground.batch, tuple(foreground.size)
        if (backdrop.batch, tuple(backdrop.size)) != (n, size):
            raise ValueError(f"the backdrop makes {backdrop.batch} images of {tuple(backdrop.size)}; the foreground "
                             f"{n} of {size}: they must agree")
        if mask.dim() != 4 or tuple(mask.shape) != (n, 1, *size):
            raise ValueError(f"the mask must be (N, 1, H, W) = {(n, 1, *size)}, got {tuple(mask.shape)}")
        if float(mask.min()) < 0 or float(mask.max()) > 1:
            raise ValueError("the mask must lie in [0, 1] (1 where the object shows)")
        self.foreground, self.backdrop, self.views = foreground, backdrop, views
        self.register_buffer("mask", mask.detach().float())
        self.images, self.size, self.channels = n, image_size(size), foreground.channels
        self.batch = len(views) * n

    def _on(self, front: torch.Tensor, behind: torch.Tensor | float) -> torch.Tensor:
        return self.mask * front + (1 - self.mask) * behind

    def forward(self) -> torch.Tensor:
        front = self.foreground()
        behind = self.backdrop() if {"composite", "backdrop"} & set(self.views) else None
        made = {"composite": lambda: self._on(front, behind), "object": lambda: self._on(front, GREY),
                "backdrop": lambda: behind}
        return torch.cat([made[v]() for v in self.views])

    def rows(self, view: str) -> tuple[int, int]:
        """(start, stop) of ``view``'s images in the batch."""
        if view not in self.views:
            raise ValueError(f"view {view!r} is not shown; this param shows {', '.join(self.views)}")
        i = self.views.index(view)
        return i * self.images, (i + 1) * self.images

    def composites(self) -> torch.Tensor:
        """The images themselves (N, C, H, W) in [0, 1], on the CPU."""
        with torch.no_grad():
            return self._on(self.foreground(), self.backdrop()).clamp(0, 1).cpu()


ParamFactory = Callable[..., ImageParam]  # (batch=, size=, seed=) -> an ImageParam


def shaped(mask: torch.Tensor, foreground: ParamFactory, backdrop: ParamFactory, *, seed: int = 0,
           views: Sequence[str] = ("composite",), device: torch.device | str | None = None) -> ShapedParam:
    """A :class:`ShapedParam` of ``mask`` (N, 1, H, W): foreground and backdrop built by the factories (e.g.
    ``functools.partial(params.fft, colour=...)``) with seeds ``seed`` and ``seed + 1``, so they differ."""
    n, size = mask.shape[0], tuple(mask.shape[-2:])
    return ShapedParam(foreground(batch=n, size=size, seed=seed), backdrop(batch=n, size=size, seed=seed + 1), mask,
                       views).to(device or "cpu")


__all__ = ["GREY", "VIEWS", "ShapedParam", "shaped"]
