"""Unadjusted Langevin dynamics in activation space, with an analytic Gaussian score.

Why sample and not maximise: activation maximisation climbs to one mode and returns the same
over-saturated picture every time. Plug & Play Generative Networks (Nguyen, Clune, Bengio,
Dosovitskiy & Yosinski, CVPR 2017) instead run a Langevin-like chain on the code h of a generator
G, following ∇ log p(h) (a prior on the code) + λ ∇ log p(class | G(h)) plus noise, so each chain,
and each stretch of a chain, is a different image of the class: a sample of what the network
accepts, not its single favourite. Here the prior is the class Gaussian of the activations
(:class:`~stochvis.stats.lowrank.LowRankDensity`), whose score −Σ⁻¹(h − μ) is exact and cheap
through Woodbury; the caller adds any differentiable term:

    prior = gaussian_score(density)
    def score(h):
        h = h.detach().requires_grad_(True)
        log_p = classifier(G(h)).log_softmax(-1)[:, target].sum()
        return prior(h) + lam * torch.autograd.grad(log_p, h)[0]
    result = langevin(score, init, steps=200, step_size=1e-3, box=(0.0, upper))

:func:`langevin` never disables autograd, so such a score works as written; it detaches the
states after each step, so no graph grows across steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import linalg

from stochvis.stats.lowrank import LowRankGaussian

Score = Callable[[torch.Tensor], torch.Tensor]
Bound = float | torch.Tensor | None


@dataclass
class LangevinResult:
    """``states``: the final states (shape of ``init``); ``trace``: states recorded every
    ``record_every`` steps, (n_records, *init.shape), at the step numbers ``trace_steps`` (step 0
    is the projected initial state)."""

    states: torch.Tensor
    trace: torch.Tensor
    trace_steps: list[int] = field(default_factory=list)


def _generator(random_state: int | torch.Generator | None, device: torch.device) -> torch.Generator | None:
    if random_state is None or isinstance(random_state, torch.Generator):
        return random_state
    return torch.Generator(device=device).manual_seed(int(random_state))


def langevin(
    score: Score,
    init: torch.Tensor,
    *,
    steps: int = 100,
    step_size: float = 1e-2,
    box: tuple[Bound, Bound] | None = None,
    preconditioner: torch.Tensor | float | None = None,
    random_state: int | torch.Generator | None = None,
    record_every: int = 0,
) -> LangevinResult:
    """Run h ← h + ε P s(h) + √(2ε) P^½ ξ, ξ ~ N(0, I), for ``steps`` steps from ``init``.

    ``score`` s(h) ≈ ∇ log p(h) for a batch of states (the rows of ``init`` are independent
    chains); ``step_size`` ε; ``preconditioner`` P, a positive diagonal (a tensor broadcasting
    against the states, or a number), e.g. the prior variances so every unit moves at its own
    scale — the chain then targets the same p(h); ``box`` (low, high), numbers or tensors, or
    None on either side: each state (the initial one included) is projected onto it, e.g.
    (0, mean + 3 std) for rectified units. Unadjusted (no Metropolis test), so the chain samples
    p only up to an O(ε) bias. ``random_state``: an int or a torch Generator for reproducible
    noise. ``record_every`` > 0 keeps every that-many-th state (memory: n_records × init).
    The dtype and device of ``init`` are kept.
    """
    if int(steps) < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    if not step_size > 0:
        raise ValueError(f"step_size must be positive, got {step_size}")
    if int(record_every) < 0:
        raise ValueError(f"record_every must be non-negative (0: no trace), got {record_every}")
    h = init.detach().clone()
    low, high = (None, None) if box is None else (
        None if bound is None else torch.as_tensor(bound, dtype=h.dtype, device=h.device) for bound in box)
    if low is not None and high is not None and torch.any(low > high):
        raise ValueError("box: low must not exceed high")

    def project(x: torch.Tensor) -> torch.Tensor:
        return x if low is None and high is None else torch.clamp(x, min=low, max=high)

    if preconditioner is None:
        drift_scale, noise_scale = step_size, (2 * step_size) ** 0.5
    else:
        P = torch.as_tensor(preconditioner, dtype=h.dtype, device=h.device)
        if not torch.all(P > 0):
            raise ValueError("preconditioner must be positive (a diagonal: one scale per unit)")
        drift_scale, noise_scale = step_size * P, (2 * step_size * P).sqrt()
    generator = _generator(random_state, h.device)
    h = project(h)
    trace, trace_steps = [], []
    if record_every:
        trace, trace_steps = [h.clone()], [0]
    for step in range(1, int(steps) + 1):
        gradient = score(h)
        if gradient.shape != h.shape:
            raise ValueError(f"score returned shape {tuple(gradient.shape)} for states of shape {tuple(h.shape)}")
        noise = torch.randn(h.shape, generator=generator, dtype=h.dtype, device=h.device)
        h = project((h + drift_scale * gradient.detach() + noise_scale * noise).detach())
        if record_every and step % record_every == 0:
            trace.append(h.clone())
            trace_steps.append(step)
    stacked = torch.stack(trace) if trace else h.new_empty((0,) + tuple(h.shape))
    return LangevinResult(h, stacked, trace_steps)


def gaussian_score(
    mean_or_density: LowRankGaussian | Any,
    precision_or_density: LowRankGaussian | Any = None,
    *,
    covariance: Any = None,
) -> Score:
    """The analytic score h ↦ −Σ⁻¹(h − μ) of a Gaussian, as a function of torch tensors.

    * ``gaussian_score(density)``: a fitted :class:`~stochvis.stats.lowrank.LowRankDensity` (or a
      conditional from its ``condition``, whose per-row means broadcast against the states), via
      Woodbury in O(d k) per state: Σ⁻¹ = Ψ⁻¹ − Ψ⁻¹W (I + WᵀΨ⁻¹W)⁻¹ WᵀΨ⁻¹;
    * ``gaussian_score(mean, density)``: the same covariance around another mean;
    * ``gaussian_score(mean, precision)``: a dense precision matrix Σ⁻¹;
    * ``gaussian_score(mean, covariance=cov)``: a dense covariance, solved by Cholesky once.

    The returned function keeps the dtype and device of its input (parameters are cast once per
    dtype/device and cached); it is differentiable, though nothing needs that.
    """
    if isinstance(mean_or_density, LowRankGaussian):
        if precision_or_density is not None or covariance is not None:
            raise ValueError("pass either a density alone, or a mean with a density, a precision or covariance=")
        density, mean = mean_or_density, None
    elif isinstance(precision_or_density, LowRankGaussian):
        if covariance is not None:
            raise ValueError("pass a density or covariance=, not both")
        density, mean = precision_or_density, mean_or_density
    else:
        density, mean = None, mean_or_density
        if (precision_or_density is None) == (covariance is None):
            raise ValueError("a dense Gaussian needs exactly one of a precision matrix or covariance=")

    def to64(x: Any) -> np.ndarray:
        return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)

    if density is not None:
        scaled, chol, _ = density.factors
        inner = np.linalg.inv(chol @ chol.T)  # (I + WᵀΨ⁻¹W)⁻¹, k×k
        params = {"mean": density.mean_ if mean is None else to64(mean), "inv_psi": 1.0 / density.noise_variance_,
                  "scaled": scaled, "inner": (inner + inner.T) / 2}
    else:
        params = {"mean": to64(mean)}
        d = params["mean"].shape[-1]
        matrix = to64(precision_or_density if covariance is None else covariance)
        if matrix.shape != (d, d):
            raise ValueError(f"precision/covariance must be ({d}, {d}) for a mean of dimension {d}, got {matrix.shape}")
        if covariance is not None:
            matrix = linalg.cho_solve(linalg.cho_factor(matrix, lower=True), np.eye(d))
        params["precision"] = (matrix + matrix.T) / 2
    cache: dict[tuple[torch.dtype, torch.device], dict[str, torch.Tensor]] = {}

    def score(h: torch.Tensor) -> torch.Tensor:
        key = (h.dtype, h.device)
        if key not in cache:
            cache[key] = {name: torch.as_tensor(value, dtype=h.dtype, device=h.device) for name, value in params.items()}
        p = cache[key]
        centred = h - p["mean"]
        if "precision" in p:
            return -(centred @ p["precision"])
        return -(centred * p["inv_psi"] - (centred @ p["scaled"]) @ p["inner"] @ p["scaled"].T)

    return score
