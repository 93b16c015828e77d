"""Shared fixtures: tiny models and tiny images, so unit tests take seconds on 2 cores."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

from stochvis.models import WrappedModel, wrap_model

# Under pytest-xdist (make test: -n 2) each worker is one of the cores: a second intra-op thread would only spin.
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else max(1, min(2, os.cpu_count() or 1)))

# Modules whose tests are independent of each other's fixtures: every test may go to any worker. Every other
# module's tests stay on one worker (--dist loadgroup), so a module-scoped fixture (a world, a table's setting)
# is built once, not once per worker.
FREE_MODULES = {"test_notebooks.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name not in FREE_MODULES:
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(config.rootpath).as_posix()))


class TinyNet(nn.Module):
    """conv-relu-conv-relu-pool-conv-relu-avgpool-linear: small, but with the layer kinds we meet."""

    def __init__(self, classes: int = 5, width: int = 8) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(inplace=True),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


TINY_ALIASES = {"conv1": "features.1", "conv2": "features.3", "pool1": "features.4", "conv3": "features.6"}


def make_tiny(seed: int = 0, classes: int = 5, size: int = 16) -> WrappedModel:
    torch.manual_seed(seed)
    return wrap_model(TinyNet(classes), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), input_size=(size, size),
                      classes=[f"class{i}" for i in range(classes)], name="tiny", aliases=TINY_ALIASES,
                      device="cpu")


@pytest.fixture
def tiny_model() -> WrappedModel:
    return make_tiny()


@pytest.fixture
def tiny_images() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.rand(4, 3, 16, 16, generator=generator)


@pytest.fixture(autouse=True)
def _one_thread_for_optimisation_tests(request):
    """The optimisation tests (tests/optvis) run tiny tensors: a second intra-op thread only adds
    synchronisation on a busy 2-core machine (six NAdam steps: 1.3 s with two threads, 30 ms with one)."""
    if "optvis" not in request.node.path.parts:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
