"""Statistics-guided sampling in a generator's code (PPGN-style Langevin), not maximisation.

Why: DGN-AM climbs the class logit in the code of a generator G and returns near-identical
favourites; Plug & Play Generative Networks (Nguyen et al. 2017) instead *sample* the code with a
Langevin chain that follows a prior on the code plus the classifier's pull. Here the prior is the
class's own statistics of the code layer (the subject's fc1, which the Fashion generator inverts):

    h ← clip_box( h + ε P [ −Σ⁻¹(h − μ_c) + λ ∇_h log p(c | G(h)) ] + √(2ε P) ξ )

with P the per-unit prior variances (every unit moves at its own scale) and the box the
generator's code range (post-ReLU: ≥ 0). The prior keeps the codes where class codes live, so
G draws what it was trained to draw; λ keeps them the class. The generator comes in as a
:class:`~stochvis.methods.generator_prior.GeneratorPrior`: methods never import worlds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from stochvis.methods.generator_prior import GeneratorPrior
from stochvis.models import WrappedModel
from stochvis.stats.density import GaussianDensity
from stochvis.stats.langevin import gaussian_score, langevin
from stochvis.stats.lowrank import LowRankDensity


@dataclass
class CodeSamples:
    """``images`` G(codes) (n, C, H, W); ``codes`` the final states (n, *code_shape); ``trace``
    recorded codes (n_records, n, *code_shape) when asked."""

    images: torch.Tensor
    codes: torch.Tensor
    trace: torch.Tensor


def _prior_parts(density: GaussianDensity | LowRankDensity) -> tuple:
    """(score function, per-unit variances, mean) of a dense or low-rank Gaussian."""
    if isinstance(density, LowRankDensity):
        variances = (density.components_ ** 2).sum(1) + density.noise_variance_
        return gaussian_score(density), variances, density.mean_
    if isinstance(density, GaussianDensity):
        return (gaussian_score(density.mean_, covariance=density.covariance_), np.diag(density.covariance_).copy(),
                density.mean_)
    raise TypeError(f"density must be a GaussianDensity or LowRankDensity, got {type(density).__name__}")


def sample_codes(
    generator: GeneratorPrior,
    classifier: WrappedModel,
    target: int | str,
    density: GaussianDensity | LowRankDensity,
    n: int = 8,
    *,
    steps: int = 200,
    step_size: float = 0.01,
    class_weight: float = 1.0,
    seed: int = 0,
    init: str = "density",
    record_every: int = 0,
) -> CodeSamples:
    """n codes of class ``target`` by Langevin with the class Gaussian score and the classifier's pull.

    ``density``: the class model of the code (e.g. ``stats.density("fc1/pooled")`` or a
    ``LowRankDensity``) in the generator's flattened code space; ``class_weight`` λ (0: the
    statistics alone); ``step_size`` ε in units of each unit's prior variance; ``init``:
    ``"density"`` (a draw of the class model, clipped to the box) or ``"mean"``. The box is the
    generator's ``lower``/``upper``; the chain never leaves it.
    """
    device = generator.init_mean.device
    prior_score, variances, mean = _prior_parts(density)
    code_dim = int(np.prod(generator.code_shape))
    if len(mean) != code_dim:
        raise ValueError(f"the density has {len(mean)} dimensions, the generator's code {code_dim}")
    index = classifier.class_index(target)
    low = None if generator.lower is None else generator.lower.reshape(-1)
    high = None if generator.upper is None else generator.upper.reshape(-1)
    if init == "density":
        start = density.sample(n, random_state=seed)
    elif init == "mean":
        start = np.repeat(mean[None], n, 0)
    else:
        raise ValueError(f"init={init!r}: use 'density' or 'mean'")
    start = torch.as_tensor(start, dtype=torch.float32, device=device)

    def score(h: torch.Tensor) -> torch.Tensor:
        total = prior_score(h)
        if class_weight:
            h = h.detach().requires_grad_(True)
            images = generator(h.reshape(-1, *generator.code_shape))
            log_p = classifier(images).log_softmax(-1)[:, index].sum()
            total = total + class_weight * torch.autograd.grad(log_p, h)[0]
        return total

    preconditioner = torch.as_tensor(np.maximum(variances, 1e-12 * max(variances.max(), 1e-12)), dtype=torch.float32,
                                     device=device)
    result = langevin(score, start, steps=steps, step_size=step_size, box=(low, high), preconditioner=preconditioner,
                      random_state=seed, record_every=record_every)
    codes = result.states.reshape(n, *generator.code_shape)
    with torch.no_grad():
        images = generator(codes).clamp(0, 1)
    trace = result.trace.reshape(result.trace.shape[0], n, *generator.code_shape)
    return CodeSamples(images.cpu(), codes.cpu(), trace.cpu())
