"""What separates classes in their statistics: Fisher ratios, discriminant directions (two classes or more)."""

from __future__ import annotations

import numpy as np
from scipy import linalg

from stochvis.stats.store import Statistics


def _two_classes(per_class: dict[str, Statistics], what: str) -> None:
    """Analyses of what *separates* classes need at least two of them (one class has no between-class spread)."""
    if not isinstance(per_class, dict) or not all(isinstance(s, Statistics) for s in per_class.values()):
        raise TypeError(f"{what} takes {{class name: Statistics}} (collect_classes' result), got {type(per_class).__name__}")
    if len(per_class) < 2:
        raise ValueError(f"{what} compares classes and needs statistics of at least 2; got {len(per_class)} "
                         f"({', '.join(map(repr, per_class)) or 'none'}): a folder needs one subfolder per class, two or more")


def fisher_ratio(per_class: dict[str, Statistics], key: str) -> np.ndarray:
    """Per unit: variance of the class means / mean within-class variance (large = separates classes)."""
    _two_classes(per_class, "fisher_ratio")
    means = np.stack([s[key].mean.cpu().numpy() for s in per_class.values()])
    within = np.stack([s[key].covariance().diagonal().cpu().numpy() for s in per_class.values()]).mean(0)
    return means.var(0) / np.maximum(within, 1e-12)


def discriminant_directions(per_class: dict[str, Statistics], key: str, n_components: int = 2,
                            shrinkage: str | float | None = "oas") -> np.ndarray:
    """Fisher's linear discriminant directions (d, n_components) from the statistics alone:
    generalised eigenvectors of the between-class scatter against the shrunk within-class covariance."""
    _two_classes(per_class, "discriminant_directions")
    densities = [s.density(key, shrinkage=shrinkage) for s in per_class.values()]
    counts = np.array([s.count for s in per_class.values()], dtype=np.float64)
    means = np.stack([d.mean_ for d in densities])
    centre = (counts[:, None] * means).sum(0) / counts.sum()
    between = ((means - centre).T * counts) @ (means - centre) / counts.sum()
    within = sum(c * d.covariance_ for c, d in zip(counts, densities)) / counts.sum()
    values, vectors = linalg.eigh(between, within)
    return vectors[:, ::-1][:, :n_components]
