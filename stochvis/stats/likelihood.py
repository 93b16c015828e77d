"""Class evidence by likelihood: each class's density scores every image, per dimension, and an image
goes to the class whose model finds it most likely.

Why here: notebooks 04 and 05 ask the same question of real and of synthetic images — does the class
model of *this* layer recognise them? — and wrote the classifier twice. Log-likelihood per dimension
makes layers of different widths comparable (a d-dimensional Gaussian's log-likelihood grows with d).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


def loglik_per_dim(densities: Mapping[str, object], vectors) -> np.ndarray:
    """(classes, n): each class density's log-likelihood of each vector, divided by the dimension, in the
    order of ``densities`` (any fitted density with ``score_samples`` and ``n_features_in_``)."""
    if not densities:
        raise ValueError("no class densities given: pass {class name: fitted density}")
    return np.stack([d.score_samples(vectors) / d.n_features_in_ for d in densities.values()])


@dataclass
class LikelihoodTable:
    """``table[m, c]``: mean log-likelihood per dimension of class ``c``'s vectors under class ``m``'s model;
    ``correct`` of ``total`` vectors are most likely under their own class's model."""

    classes: list[str]
    table: np.ndarray
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")


def likelihood_table(densities: Mapping[str, object], vectors_by_class: Mapping[str, object]) -> LikelihoodTable:
    """Score every class's vectors under every class's density (the same keys in both mappings)."""
    names = list(densities)
    missing = [c for c in vectors_by_class if c not in densities]
    if missing or len(names) < 2:
        raise ValueError(f"likelihood_table needs a density for each of at least two classes; densities: {names}, "
                         f"vectors of classes without one: {missing}")
    table = np.zeros((len(names), len(vectors_by_class)))
    correct = total = 0
    for column, (truth, vectors) in enumerate(vectors_by_class.items()):
        scores = loglik_per_dim(densities, vectors)
        table[:, column] = scores.mean(1)
        correct += int((scores.argmax(0) == names.index(truth)).sum())
        total += scores.shape[1]
    return LikelihoodTable(names, table, correct, total)
