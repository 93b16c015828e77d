"""The seed control of panels that optimise or sample: the seed in use, shown and editable, and a "new sample"
button that draws a fresh one and re-runs, so a picture can always be made again from the seed it shows."""

from __future__ import annotations

import random
from collections.abc import Callable

import ipywidgets as W

MAX_SEED = 2**31 - 1


class SeedControl:
    """``box`` (the seed, an editable integer) and ``button`` ("new sample": a new seed, then ``on_new()``)."""

    def __init__(self, seed: int = 0, *, style: dict | None = None) -> None:
        self.box = W.BoundedIntText(value=int(seed), min=0, max=MAX_SEED, description="seed", style=style or {})
        self.button = W.Button(description="new sample", icon="random", tooltip="draw a new seed and run again")
        self._draw = random.Random()  # OS entropy: a new sample is new; the seed it used is shown in the box

    @property
    def value(self) -> int:
        return int(self.box.value)

    def new(self) -> int:
        """Draw a new seed into the box (and return it)."""
        self.box.value = self._draw.randrange(MAX_SEED)
        return self.value

    def on_new(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each new seed drawn by the button (a panel's render)."""
        self.button.on_click(lambda _button: (self.new(), callback()))

    @property
    def widgets(self) -> list[W.Widget]:
        return [self.box, self.button]
