"""The regularisation ladder: Simonyan's raw ascent, then the pieces of the source documents' recipe
added one at a time (normalised step and jitter, L2 decay, random-kernel gradient blur, small-norm
clipping, octaves, saturation inversion = ``garon2017``).

Why a function: each rung's images show what that one piece buys on a given model and objective, and
the comparison is only fair if every rung shares the start, the seed, the size and the steps.
"""

from __future__ import annotations

import functools

from stochvis.models import WrappedModel
from stochvis.optvis import params, presets
from stochvis.optvis import regularizers as R
from stochvis.optvis.objectives import Objective
from stochvis.optvis.optimize import Octaves, OptimizationResult, optimize

# Each rung adds these strengths (regularizers.from_strengths) to the previous ones.
ADDITIONS = (
    ("2 + normalised step, jitter 8 px", dict(jitter=8)),
    ("3 + L2 decay θ=0.02", dict(decay=0.02)),
    ("4 + random-kernel gradient blur (k≤9)", dict(blur_kernel=9)),
    ("5 + small-norm clipping (30th pct)", dict(norm_pct=30.0)),
)


def regularisation_ladder(model: WrappedModel, objective: Objective, *, size: int, steps: int, batch: int,
                          classes: bool, simonyan_lr: float | None = None, seed: int = 0
                          ) -> list[tuple[str, OptimizationResult]]:
    """(label, result) per rung, from the same noise start. ``classes``: the objective is a class logit, so
    the last rung (saturation inversion, ``garon2017``) applies; ``simonyan_lr``: rung 1's learning rate
    (its raw step's size depends on how many positions the objective spreads its gradient over)."""
    noise_start = functools.partial(params.pixel, init="noise")
    baseline = dict(param=noise_start, **({"lr": simonyan_lr} if simonyan_lr else {}))
    rungs = [("1 Simonyan 2013: raw ascent + L2", "simonyan2013", baseline)]
    cumulative: dict = {}
    for label, addition in ADDITIONS:
        cumulative = {**cumulative, **addition}
        rungs.append((label, None, dict(regularizers=R.from_strengths(**cumulative), optimizer="sgd", lr=0.01)))
    rungs.append(("6 + octaves (3 × 1.4)", None, dict(regularizers=R.from_strengths(**cumulative),
                                                        optimizer="sgd", lr=0.01, octaves=Octaves(3))))
    if classes:
        rungs.append(("7 + saturation inversion = garon2017", "garon2017", {}))
    results = []
    for label, preset, options in rungs:
        common = dict(size=size, steps=steps, batch=batch, seed=seed, progress=False)
        if preset:
            result = presets.run(preset, model, objective, **common, **options)
        else:
            result = optimize(model, objective, param=noise_start, **common, **options)
        results.append((label, result))
    return results
