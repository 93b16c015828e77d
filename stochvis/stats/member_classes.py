"""Which member of a class *set* each real image of a kind is, and how sure the network is of it: the set's
composition as a statistic, to draw one member per synthetic image.

Why: a kind of object is many ImageNet classes (59 birds, 10 fruit), and evidence for the set as a whole (the
log-sum-exp of its logits) lets an optimisation reach the kind through whichever member is easiest to paint — red
speckle reads as "strawberry", so fruit become strawberry-textured apples. A real photograph of a kind is mostly
one member, and the kind's photographs spread over its members in proportions of their own. Drawing each image's
member from those proportions, and asking it for the probability real images of that member reach, asks each image
to be one thing, as a photograph is, and the images together to be as varied as the photographs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass
class MemberClasses:
    """Of ``N`` real images of a kind: each one's most probable member of the set (``tops``, class indices of the
    network), and for each member that is some image's top, the mean probability those images give it
    (``ceilings``): how much of that member a real image is."""

    tops: list[int]
    ceilings: dict[int, float]

    @classmethod
    def fit(cls, probabilities: torch.Tensor, members: Sequence[int]) -> MemberClasses:
        """From softmax ``probabilities`` (N, classes) of real images of the kind and the set's class indices."""
        members = [int(m) for m in members]
        if probabilities.ndim != 2 or len(probabilities) == 0:
            raise ValueError(f"probabilities are (images, classes) with at least one image, got shape "
                             f"{tuple(probabilities.shape)}")
        if not members or not all(0 <= m < probabilities.shape[1] for m in members):
            raise ValueError(f"members must be a non-empty set of class indices in 0..{probabilities.shape[1] - 1}, "
                             f"got {members}")
        picked, top = probabilities[:, members].double().max(1)
        tops = [members[j] for j in top.tolist()]
        ceilings = {m: float(picked[[t == m for t in tops]].mean()) for m in dict.fromkeys(tops)}
        return cls(tops, ceilings)

    def shares(self) -> dict[int, float]:
        """Each member's share of the fitted images (the proportions a draw follows), largest first."""
        return {m: c / len(self.tops) for m, c in Counter(self.tops).most_common()}

    def draw(self, n: int, seed: int = 0) -> tuple[list[int], list[float]]:
        """``n`` members, each the top member of a fitted image drawn at random (so in the real images'
        proportions), and each one's ceiling: (classes, ceilings) for
        :func:`~stochvis.optvis.objectives.class_set_evidence` with one single-class set per image."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        picks = torch.randint(0, len(self.tops), (n,), generator=torch.Generator().manual_seed(seed)).tolist()
        classes = [self.tops[j] for j in picks]
        return classes, [self.ceilings[c] for c in classes]
