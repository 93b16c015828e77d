"""Tiny untrained models for tests and smoke runs: importable as ``"stochvis.testing:tiny_cnn"`` wherever a model
is given as ``"package.module:callable"`` (the notebooks' ``model`` parameter, :func:`stochvis.front.as_model`).

Seeded, CPU, a few thousand weights each; they say nothing about what a trained network learned.
"""

from __future__ import annotations

import torch
from torch import nn

from stochvis.models import WrappedModel, wrap_model


class TinyCNN(nn.Module):
    """Four conv-ReLU stages with max pooling (strides 2, 4, 8, 16), global pool, a linear head."""

    def __init__(self, classes: int = 5, width: int = 8) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for stage in range(4):
            out = width * 2 ** min(stage, 2)
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


def tiny_cnn(classes: int = 5, size: int = 64, seed: int = 0) -> WrappedModel:
    """:class:`TinyCNN` at ``size`` px, class names ``"0"``.. (read from its head), on the CPU."""
    torch.manual_seed(seed)
    return wrap_model(TinyCNN(classes), input_size=size, name="tiny_cnn", device="cpu")


def tiny_vit(classes: int = 5, seed: int = 0) -> WrappedModel:
    """A torchvision ``VisionTransformer`` at 32 px, 8-px patches (4×4 tokens and a class token), 2 layers of 32
    hidden units: its declared size is fixed, so the wrapper resizes other sizes to 32."""
    from torchvision.models import VisionTransformer

    import stochvis  # noqa: F401  (the torchvision guard before torchvision)

    torch.manual_seed(seed)
    net = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                            num_classes=classes)
    return wrap_model(net, name="tiny_vit", device="cpu")
