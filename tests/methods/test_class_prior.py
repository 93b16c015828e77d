"""statistics_prior with its arguments in the wrong order says what it takes."""

from __future__ import annotations

import pytest
import torch

from stochvis.methods.class_prior import statistics_prior
from stochvis.stats.collection import collect
from tests.conftest import make_tiny


def test_swapped_arguments_get_a_sentence_naming_the_types():
    model = make_tiny()
    stats = collect(model, torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0)), ["conv3"],
                    progress=False)
    for args in ((model, stats, "conv3"), ("conv3", stats), (stats, 3), (stats, "conv3", "strong")):
        with pytest.raises(ValueError, match=r"takes \(Statistics of one class, a feature key .*Got \("):
            statistics_prior(*args)
    assert statistics_prior(stats, "conv3", 2.0).layers == frozenset({"conv3"})
