"""What separates classes needs two classes: one-class folders are refused with a sentence."""

from __future__ import annotations

import pytest
import torch

from stochvis.stats.analysis import discriminant_directions, fisher_ratio
from stochvis.stats.collection import collect_classes
from tests.conftest import make_tiny


def test_one_class_is_refused_two_are_analysed():
    model = make_tiny()
    images = torch.rand(12, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    two = collect_classes(model, (images, torch.tensor([0, 1] * 6)), ["conv3"], classes=["a", "b"], progress=False)
    one = {"a": two["a"]}
    for analysis in (fisher_ratio, discriminant_directions):
        with pytest.raises(ValueError, match="needs statistics of at least 2; got 1 \\('a'\\).*one subfolder per class"):
            analysis(one, "conv3/pooled")
    assert fisher_ratio(two, "conv3/pooled").shape == (16,)
    assert discriminant_directions(two, "conv3/pooled", 1).shape == (16, 1)
